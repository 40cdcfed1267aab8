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

/// Forgets the argument tables of the last call: they must not be matched after it returns.
void pinrules_origins_forget(pinrules_ctx *ctx);

/// Frees the record of where argument tables came from (bridge.c).
void pinrules_origins_free(pinrules_ctx *ctx);

#endif
