/* Ctrl-C handling shared by the interpreter and by long-running C code.
 * SIGINT while Lua code runs sets a debug hook that raises "interrupted!" at
 * the next safe point (as lua.c does), and sets a flag that C loops (the
 * training loop) poll so that they can finish the current batch and return
 * cleanly before the hook fires in Lua. */
#ifndef SIAM_INTERRUPT_H
#define SIAM_INTERRUPT_H

#include <signal.h>

#include <lua.h>

/* Arms the SIGINT handler for a call into L; siam_interrupt_disarm puts
 * back the default action (as lua.c: Ctrl-C outside a call, e.g. at the REPL
 * prompt, ends the process). Arming clears the flag first, so an old Ctrl-C
 * (say, one typed at the REPL prompt) does not stop the next command. A second
 * Ctrl-C during the same call gets the default action (the process ends),
 * which is the way out of C code that never polls the flag. */
void siam_interrupt_arm(lua_State *L);
void siam_interrupt_disarm(void);

/* The stop flag: non-zero once SIGINT has arrived during an armed call.
 * C code that runs for long (host/train.h takes this pointer) polls it
 * between steps, finishes the current step, flushes what it has written and
 * returns; it never writes the flag. The pointer is valid for the whole
 * process (signals are process-wide, so there is one flag).
 *
 * For bindings that run such C code: the Lua hook is set at the same moment,
 * so the first Lua event after the C code returns (its return, or a Lua
 * callback such as a training hook) raises "interrupted!". A binding that
 * calls back into Lua must therefore either call through lua_pcall and treat
 * a failure as "stop", or keep every C resource owned by a userdata (freed
 * by __gc), so that the error unwinding through it leaks nothing. */
volatile sig_atomic_t *siam_interrupt_flag(void);

/* Clears the flag (for a caller that has handled the interruption and wants
 * to go on, e.g. the REPL). */
void siam_interrupt_clear(void);

#endif
