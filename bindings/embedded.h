/* Lua modules compiled into the binary (the .lua files of bindings/lua/siam, embedded
 * by scripts/embed_lua.sh at build time) and their registration as
 * package.preload entries, so `require "siam.NAME"` works anywhere. */
#ifndef SIAM_EMBEDDED_H
#define SIAM_EMBEDDED_H

#include <stddef.h>

typedef struct siam_lua_module {
    const char *name;   /* "siam.grid" */
    const char *chunk;  /* "@bindings/lua/siam/grid.lua", for tracebacks */
    const char *source;
    size_t size;
} siam_lua_module;

/* Terminated by an entry whose name is NULL. */
extern const siam_lua_module siam_lua_modules[];

/* docs/api.md, compiled in by scripts/embed_text.sh (NUL-terminated; size
 * without the NUL): require "siam.api_doc" returns it, for the REPL's help(). */
extern const char siam_api_doc[];
extern const size_t siam_api_doc_size;

struct lua_State;
/* Adds every embedded module, and siam.api_doc, to package.preload. */
void siam_lua_preload_embedded(struct lua_State *L);

#endif
