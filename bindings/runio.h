/* The siam.io table: Lua access to the C writers of run results (host/
 * atomic_file.h, run_log.h, progress.h, shard.h, tfevents.h, plot.h,
 * image_sheet.h). The run-folder and grid logic that uses them is Lua
 * (bindings/lua/siam/run.lua, gridrun.lua); the grid's tables are
 * siam.results (bindings/results.h). */
#ifndef SIAM_BINDINGS_RUNIO_H
#define SIAM_BINDINGS_RUNIO_H

#include <lua.h>

#define SIAM_LINELOG_MT "siam.LineLog"
#define SIAM_RUNLOG_MT "siam.RunLog"
#define SIAM_PROGRESS_MT "siam.Progress"
#define SIAM_TFEVENTS_MT "siam.TFEvents"
#define SIAM_PLOTTER_MT "siam.Plotter"
#define SIAM_DIRLOCK_MT "siam.DirLock"

/* Sets siam.io on the module table on the top of the stack (one call for
 * bindings/siam.c) and creates the metatables. */
void siam_lua_open_io(lua_State *L);

/* The parts, each filling the siam.io table on the top of the stack. */
void siam_lua_open_io_files(lua_State *L);
void siam_lua_open_io_plots(lua_State *L);
void siam_lua_open_io_rundir(lua_State *L);

#endif
