// Shared between the sandbox's C files; not part of the interface Swift sees.
#ifndef PINRULES_SANDBOX_INTERNAL_H
#define PINRULES_SANDBOX_INTERNAL_H

#include "pinrules_shims.h"

extern char pinrules_key_null;
extern char pinrules_key_array_mt;
extern char pinrules_key_object_mt;
extern char pinrules_key_frozen;

pinrules_ctx *pinrules_getctx(lua_State *L);

/// Pushes the values of an argument tape; returns how many, or -1 for a malformed tape.
/// May raise (memory): call only in protected code.
int pinrules_push_tape(lua_State *L, const uint8_t *tape, size_t length);

/// Reads stack slots first...last back onto ctx->out with raw access only. Raises (with
/// ctx->bad_path set) for values that cannot cross. Call only in protected code.
void pinrules_read_results(lua_State *L, int first, int last);

/// Fills an argument table that is still waiting to be filled from its tape (see bridge.c);
/// returns whether it was one. Anything that reads or changes a table raw must call it first.
/// May raise (memory).
int pinrules_fill_if_lazy(lua_State *L, int index);

/// The sandbox's `next`: fills a waiting argument table before traversing it.
int pinrules_next(lua_State *L);

/// Registry entries the bridge needs; called once while the sandbox is set up.
void pinrules_bridge_setup(lua_State *L);

/// Forgets the argument tables of the last call: they must not be matched after it returns.
void pinrules_origins_forget(pinrules_ctx *ctx);

/// Frees the record of where argument tables came from (bridge.c).
void pinrules_origins_free(pinrules_ctx *ctx);

#endif
