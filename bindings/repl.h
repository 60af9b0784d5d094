/* siamlua's REPL: lua.c's read-eval-print loop with what th adds (results
 * shown with their contents, Tab completion, help(), Ctrl-C at the prompt
 * clearing the line). Linked into siamlua only, not into siam.so: it needs
 * libedit, and a host program has its own loop. */
#ifndef SIAM_BINDINGS_REPL_H
#define SIAM_BINDINGS_REPL_H

#include <lua.h>

/* Runs the function below narg arguments on L's stack in protected mode with
 * the interpreter's message handler and Ctrl-C armed; returns the status and
 * leaves nres results, or the error message (main.c's docall). */
typedef int (*siam_repl_call)(lua_State *L, int narg, int nres);

/* Reads, runs and prints statements from stdin until end of input, then
 * prints a newline. progname prefixes the REPL's own error messages (as
 * lua.c's argv[0]); call runs each statement. Sets the global `help`
 * (siam.repl's) unless one is defined. */
void siam_repl_run(lua_State *L, const char *progname, siam_repl_call call);

#endif
