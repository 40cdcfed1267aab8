// C side of the PinRules Lua sandbox.
//
// Swift never calls a Lua API function that can raise: Lua raises with longjmp, and a longjmp
// across Swift frames is undefined behaviour. Everything that can raise (allocation,
// metamethods, errors) runs below one of the protected entry points declared here, which
// return a status code and leave the details in `pinrules_ctx`.
#ifndef PINRULES_SHIMS_H
#define PINRULES_SHIMS_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>

#include "pinrules_patterns.h"

/// Status of a protected entry point.
typedef enum pinrules_status {
    PINRULES_OK = 0,
    PINRULES_SYNTAX = 1,      ///< the chunk does not compile
    PINRULES_RUNTIME = 2,     ///< Lua code raised an error
    PINRULES_LIMIT = 3,       ///< a limit was breached; `breached` says which
    PINRULES_FORBIDDEN = 4,   ///< code used something the sandbox does not offer; `forbidden_name`
    PINRULES_BAD_RETURN = 5,  ///< a result cannot cross the bridge; `bad_path` and `message`
    PINRULES_HOST = 6,        ///< misuse by the host (bad reference, bad tape); a bug, not the rule's
} pinrules_status;

typedef enum pinrules_limit_kind {
    PINRULES_LIMIT_NONE = 0,
    PINRULES_LIMIT_MEMORY = 1,
    PINRULES_LIMIT_INSTRUCTIONS = 2,
    PINRULES_LIMIT_DEADLINE = 3,
} pinrules_limit_kind;

/// One sandbox's limits, accounting and last error. Owned by the Swift `LuaSandbox`; the state
/// reaches it through its extra space, so hooks and allocations on every coroutine find it.
typedef struct pinrules_ctx {
    // Limits (0 = none). They apply while `armed`, i.e. during a protected entry point.
    size_t memory_limit;
    int64_t instruction_limit;
    int64_t deadline_ns;          ///< per call, relative; the absolute deadline is set when armed
    int hook_interval;            ///< instructions between hook checks
    int max_depth;                ///< nesting limit for values crossing the bridge
    size_t max_result_bytes;      ///< size limit for values read back from Lua
    int coverage;                 ///< record executed lines (set before pinrules_open)
    int unguarded;                ///< no hook, no memory cap: only to measure what guards cost

    // Accounting.
    int armed;
    int64_t deadline_at_ns;
    int64_t armed_at_ns;          ///< CLOCK_MONOTONIC when the current (or last) entry point was armed
    size_t memory_in_use;
    size_t memory_peak;           ///< peak since the last arming
    int64_t instructions;         ///< instructions (and charged work) in the current call
    int breached;                 ///< pinrules_limit_kind; sticky until the call returns
    size_t refused_size;          ///< allocation refused once; a second refusal of it is a breach
    int64_t refusals;             ///< allocations refused in the current call (see conclude())

    // Last error (valid after a non-OK status until the next entry point).
    char *message;                ///< malloc'd
    char *traceback;              ///< malloc'd, may be NULL
    char error_chunk[128];
    int error_line;
    char forbidden_name[128];
    char bad_path[512];
    int bad_result;               ///< 1-based index of the result that could not be read back

    // Results of the last call, as a tape (see bridge.c); owned here and reused.
    uint8_t *out;
    size_t out_len;
    size_t out_cap;
    int out_count;                ///< number of values on the tape
    int out_invalid_utf8;         ///< strings on the tape that are not valid UTF-8 (the host repairs them)
    char *warnings;               ///< malloc'd newline-separated warnings of the last read-back, may be NULL
    struct pinrules_origins *origins; ///< bridge.c: where the last call's argument tables came from
} pinrules_ctx;

/// A fresh state with the standard libraries, the accounting allocator and the hook.
/// NULL when memory runs out.
lua_State *pinrules_open(pinrules_ctx *ctx);
void pinrules_close(lua_State *L, pinrules_ctx *ctx);

/// Builds the sandbox from the trusted bootstrap chunk. Runs protected.
pinrules_status pinrules_setup(lua_State *L, const char *bootstrap, size_t length);

/// How `pinrules_load` treats a chunk.
enum {
    PINRULES_LOAD_RULE = 0,          ///< its own environment
    PINRULES_LOAD_TRUSTED = 1,       ///< the shared host environment
};

/// Compiles (text only) and runs a chunk in a new environment of its own (rule code) or in a
/// trusted environment (host code), and keeps its first return value as registry reference
/// `*ref`. Runs protected, under the limits. `trusted` is one of PINRULES_LOAD_*.
pinrules_status pinrules_load(lua_State *L, const char *source, size_t length, const char *chunkname,
                              int trusted, int *ref);

/// Compiles a text chunk without running it (PINRULES_OK or PINRULES_SYNTAX, message in ctx).
/// Runs protected, under the limits.
pinrules_status pinrules_compile(lua_State *L, const char *source, size_t length, const char *chunkname);

/// Calls the function at reference `ref` (or its field `field` when not NULL) with the values
/// on the argument tape, reads every result back onto the result tape (`ctx->out`). Runs
/// protected, under the limits.
pinrules_status pinrules_call(lua_State *L, int ref, const char *field, const uint8_t *tape, size_t length);

/// Makes a reference (`*out`) to field `field` of the table at reference `ref`, read raw, for
/// calling it often without looking it up each time; an error when it has no such field.
/// Protected.
pinrules_status pinrules_ref_field(lua_State *L, int ref, const char *field, int *out);

/// Releases a reference made by `pinrules_load`.
void pinrules_unref(lua_State *L, int ref);

/// Puts the lines executed so far (with `coverage` set) on the result tape as one object:
/// chunk name -> array of line numbers. Protected.
pinrules_status pinrules_coverage(lua_State *L);

/// Full garbage collection (after a memory error), protected.
void pinrules_collect(lua_State *L);

#endif
