// The sandbox's C core: accounting allocator, limit hook, guarded library functions, the
// protected entry points and the classification of errors.
#include "pinrules_shims.h"
#include "sandbox_internal.h"

#include <lauxlib.h>
#include <lualib.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// Registry keys (addresses are unique).
char pinrules_key_null;
char pinrules_key_array_mt;
char pinrules_key_object_mt;
char pinrules_key_frozen;
static char key_make_env;
static char key_coverage;
static char key_trusted_env;
static char key_metatable_guard;

pinrules_ctx *pinrules_getctx(lua_State *L) {
    return *(pinrules_ctx **)lua_getextraspace(L);
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// ---------------------------------------------------------------------------------------------
// Allocator. Counts every byte; while armed, refuses growth beyond the cap. Lua answers a
// refusal with an emergency collection and asks again for the same block: only that second
// refusal is a breach (sticky), the first may be cured by the collection.

static void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    pinrules_ctx *ctx = (pinrules_ctx *)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        ctx->memory_in_use -= old;
        return NULL;
    }
    if (nsize > old && ctx->armed && ctx->memory_limit > 0 && !ctx->unguarded &&
        ctx->memory_in_use - old + nsize > ctx->memory_limit) {
        if (ctx->refused_size == nsize) {
            ctx->breached = PINRULES_LIMIT_MEMORY;
        }
        ctx->refused_size = nsize;
        ctx->refusals++;
        return NULL;
    }
    void *block = realloc(ptr, nsize);
    if (block == NULL) return NULL;
    ctx->memory_in_use = ctx->memory_in_use - old + nsize;
    if (ctx->memory_in_use > ctx->memory_peak) ctx->memory_peak = ctx->memory_in_use;
    if (nsize > old) ctx->refused_size = 0;
    return block;
}

// ---------------------------------------------------------------------------------------------
// Limits.

static const char *limit_message(pinrules_ctx *ctx) {
    switch (ctx->breached) {
    case PINRULES_LIMIT_MEMORY: return "memory limit exceeded";
    case PINRULES_LIMIT_INSTRUCTIONS: return "instruction limit exceeded";
    case PINRULES_LIMIT_DEADLINE: return "deadline exceeded";
    default: return "limit exceeded";
    }
}

// Raises the limit error. After a breach every hook check raises again (count 1), on whatever
// coroutine runs, so pcall loops cannot swallow it.
static int raise_limit(lua_State *L, pinrules_ctx *ctx) {
    lua_sethook(L, lua_gethook(L), lua_gethookmask(L) | LUA_MASKCOUNT, 1);
    return luaL_error(L, "%s", limit_message(ctx));
}

static void check_limits(lua_State *L, pinrules_ctx *ctx) {
    if (ctx->breached) raise_limit(L, ctx);
    if (ctx->instruction_limit > 0 && ctx->instructions > ctx->instruction_limit) {
        ctx->breached = PINRULES_LIMIT_INSTRUCTIONS;
        raise_limit(L, ctx);
    }
    if (ctx->deadline_at_ns > 0 && now_ns() > ctx->deadline_at_ns) {
        ctx->breached = PINRULES_LIMIT_DEADLINE;
        raise_limit(L, ctx);
    }
}

// Line coverage for the test runner: coverage[source][line] = true. Runs inside Lua code
// (protected), so its allocations may raise like any other.
static void record_line(lua_State *L, lua_Debug *ar) {
    if (!lua_getinfo(L, "S", ar) || ar->source == NULL || ar->currentline <= 0) return;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &key_coverage);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    lua_pushstring(L, ar->source);
    if (lua_rawget(L, -2) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_createtable(L, 0, 0);
        lua_pushstring(L, ar->source);
        lua_pushvalue(L, -2);
        lua_rawset(L, -4);
    }
    lua_pushboolean(L, 1);
    lua_rawseti(L, -2, ar->currentline);
    lua_pop(L, 2);
}

static int hook_mask(pinrules_ctx *ctx) {
    return ctx->coverage ? (LUA_MASKCOUNT | LUA_MASKLINE) : LUA_MASKCOUNT;
}

static void limit_hook(lua_State *L, lua_Debug *ar) {
    pinrules_ctx *ctx = pinrules_getctx(L);
    if (!ctx->armed) return;
    if (ar->event == LUA_HOOKLINE) {
        if (ctx->breached) check_limits(L, ctx);
        record_line(L, ar);
        return;
    }
    ctx->instructions += lua_gethookcount(L);
    check_limits(L, ctx);
}

void pinrules_sandbox_charge(lua_State *L, lua_Integer units) {
    pinrules_ctx *ctx = pinrules_getctx(L);
    if (!ctx->armed) return;
    if (units > 0) ctx->instructions += units;
    check_limits(L, ctx);
}

static void arm(pinrules_ctx *ctx, lua_State *L) {
    ctx->armed = 1;
    ctx->breached = PINRULES_LIMIT_NONE;
    ctx->instructions = 0;
    ctx->refused_size = 0;
    ctx->refusals = 0;
    ctx->memory_peak = ctx->memory_in_use;
    int64_t now = now_ns();
    ctx->armed_at_ns = now;   // the host times the call from here: one clock read less
    // Saturate: now + a huge deadline must not overflow (signed overflow is undefined).
    ctx->deadline_at_ns = ctx->deadline_ns <= 0 ? 0
        : (ctx->deadline_ns > INT64_MAX - now ? INT64_MAX : now + ctx->deadline_ns);
    // A previous breach may have left this thread checking on every instruction.
    if (!ctx->unguarded)
        lua_sethook(L, limit_hook, hook_mask(ctx), ctx->hook_interval > 0 ? ctx->hook_interval : 1000);
}

static void disarm(pinrules_ctx *ctx) {
    ctx->armed = 0;
}

// ---------------------------------------------------------------------------------------------
// Errors raised by the sandbox's own functions.

// Names the thing the rule may not use; the host classifies the error by this record.
static int raise_forbidden(lua_State *L, const char *name, const char *why) {
    pinrules_ctx *ctx = pinrules_getctx(L);
    snprintf(ctx->forbidden_name, sizeof ctx->forbidden_name, "%s", name);
    return luaL_error(L, "'%s' %s", name, why);
}

static int raise_read_only(lua_State *L, const char *owner, int key_index) {
    char name[128];
    const char *key = lua_type(L, key_index) == LUA_TSTRING ? lua_tostring(L, key_index) : "?";
    snprintf(name, sizeof name, "%s.%s", owner, key);
    return raise_forbidden(L, name, "cannot be changed: the sandbox's shared tables are read-only");
}

// __index of a library table (and of the base): names that the sandbox withholds raise an error
// naming them; other missing names are nil, as in plain Lua. Upvalues: prefix, set of names.
static int missing_index(lua_State *L) {
    if (lua_type(L, 2) != LUA_TSTRING) return 0;
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(2)) == LUA_TNIL) return 0;
    const char *prefix = lua_tostring(L, lua_upvalueindex(1));
    const char *key = lua_tostring(L, 2);
    char name[128];
    if (prefix && prefix[0]) snprintf(name, sizeof name, "%s.%s", prefix, key);
    else snprintf(name, sizeof name, "%s", key);
    return raise_forbidden(L, name, "is not available in the sandbox");
}

// host.guard_missing(table, prefix, {names...})
static int host_guard_missing(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *prefix = luaL_optstring(L, 2, "");
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_createtable(L, 0, 2);                 // metatable
    lua_pushstring(L, prefix);
    lua_createtable(L, 0, 8);                 // set of withheld names
    lua_Integer n = luaL_len(L, 3);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, 3, i);
        lua_pushboolean(L, 1);
        lua_rawset(L, -3);
    }
    lua_pushcclosure(L, missing_index, 2);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, 1);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Read-only proxies. A proxy is an empty table whose metatable reads through to the real table
// (kept out of reach: __metatable hides it, __pairs iterates without exposing it) and refuses
// writes with an error naming the field.

static int frozen_newindex(lua_State *L) {
    return raise_read_only(L, lua_tostring(L, lua_upvalueindex(1)), 2);
}

static int frozen_next(lua_State *L) {
    lua_settop(L, 2);
    if (lua_next(L, lua_upvalueindex(1))) return 2;
    lua_pushnil(L);
    return 1;
}

static int frozen_pairs(lua_State *L) {
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushcclosure(L, frozen_next, 1);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

// host.freeze(table, name) -> proxy
static int host_freeze(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *name = luaL_checkstring(L, 2);
    lua_createtable(L, 0, 0);                 // proxy
    lua_createtable(L, 0, 4);                 // its metatable
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "__index");
    lua_pushstring(L, name);
    lua_pushcclosure(L, frozen_newindex, 1);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, 1);
    lua_pushcclosure(L, frozen_pairs, 1);
    lua_setfield(L, -2, "__pairs");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &pinrules_key_frozen);
    lua_pushvalue(L, -2);
    lua_pushstring(L, name);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    return 1;
}

static const char *frozen_name(lua_State *L, int index) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &pinrules_key_frozen);
    lua_pushvalue(L, index);
    lua_rawget(L, -2);
    const char *name = lua_tostring(L, -1);  // strings in the registry stay alive
    lua_pop(L, 2);
    return name;
}

// ---------------------------------------------------------------------------------------------
// Restricted base functions.

// Metatables set by rules may never hold __gc or __close. Checking at setmetatable is not
// enough: Lua looks __close up when a to-be-closed variable (or a generic `for` closing value)
// is created, so `mt.__close = f` after setmetatable(t, mt) would still reach the unsafe 5.4.4
// code. So a table accepted as a metatable gets the guard as its own metatable: its __newindex
// refuses those two keys (every new key of a guarded table goes through it), sandbox_rawset
// refuses them too, and the guard cannot be removed or replaced (__metatable). (__gc added later
// would be harmless, Lua marks finalizers only at setmetatable, but it is refused alike.)
static int is_finalizer_key(lua_State *L, int key) {
    size_t n;
    if (lua_type(L, key) != LUA_TSTRING) return 0;
    const char *k = lua_tolstring(L, key, &n);
    return (n == 4 && memcmp(k, "__gc", 4) == 0) || (n == 7 && memcmp(k, "__close", 7) == 0);
}

static int raise_finalizer_key(lua_State *L, int key) {
    return raise_forbidden(L, lua_tostring(L, key), "metamethods are not allowed in the sandbox");
}

static int is_guard(lua_State *L, int mt_index) {
    mt_index = lua_absindex(L, mt_index);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &key_metatable_guard);
    int found = lua_rawequal(L, -1, mt_index);
    lua_pop(L, 1);
    return found;
}

static int guard_newindex(lua_State *L) {
    if (is_finalizer_key(L, 2)) return raise_finalizer_key(L, 2);
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 0;
}

static int sandbox_rawset(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    pinrules_fill_if_lazy(L, 1);
    const char *name = frozen_name(L, 1);
    if (name) return raise_read_only(L, name, 2);
    if (is_finalizer_key(L, 2) && lua_getmetatable(L, 1)) {
        if (is_guard(L, -1)) return raise_finalizer_key(L, 2);
        lua_pop(L, 1);
    }
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

// rawget and rawlen fill a waiting argument table first (see bridge.c); otherwise stock.
static int sandbox_rawget(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    lua_settop(L, 2);
    pinrules_fill_if_lazy(L, 1);
    lua_rawget(L, 1);
    return 1;
}

static int sandbox_rawlen(lua_State *L) {
    int t = lua_type(L, 1);
    luaL_argexpected(L, t == LUA_TTABLE || t == LUA_TSTRING, 1, "table or string");
    if (t == LUA_TTABLE) pinrules_fill_if_lazy(L, 1);
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, 1));
    return 1;
}

static int is_marker(lua_State *L, int mt_index) {
    mt_index = lua_absindex(L, mt_index);
    int found = 0;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &pinrules_key_array_mt);
    found = lua_rawequal(L, -1, mt_index);
    lua_pop(L, 1);
    if (found) return 1;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &pinrules_key_object_mt);
    found = lua_rawequal(L, -1, mt_index);
    lua_pop(L, 1);
    return found;
}

// setmetatable without finalizers or to-be-closed values: __gc runs with hooks off (a looping
// finalizer hangs the host) and Lua 5.4.4 has memory-safety bugs around __close. See the guard
// above for why the metatable itself is guarded. Metatables are read raw (no metamethods run).
static int sandbox_setmetatable(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    int t = lua_type(L, 2);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    lua_settop(L, 2);
    pinrules_fill_if_lazy(L, 1);
    const char *name = frozen_name(L, 1);
    if (name) return raise_forbidden(L, name, "cannot be changed: the sandbox's shared tables are read-only");
    if (lua_getmetatable(L, 1)) {
        if (is_guard(L, -1))
            return luaL_error(L, "a table used as a metatable cannot have a metatable of its own in the sandbox");
        // The bridge's array/object markers may be replaced; other protected metatables may not.
        lua_pushliteral(L, "__metatable");
        if (!is_marker(L, -2) && lua_rawget(L, -2) != LUA_TNIL)
            return luaL_error(L, "cannot change a protected metatable");
        lua_settop(L, 2);
    }
    if (t == LUA_TTABLE) {
        if (lua_rawequal(L, 1, 2)) return luaL_error(L, "a table cannot be its own metatable in the sandbox");
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL) return raise_forbidden(L, "__gc", "metamethods are not allowed in the sandbox");
        lua_pushliteral(L, "__close");
        if (lua_rawget(L, 2) != LUA_TNIL) return raise_forbidden(L, "__close", "metamethods are not allowed in the sandbox");
        lua_settop(L, 2);
        if (lua_getmetatable(L, 2)) {
            if (!is_guard(L, -1))
                return luaL_error(L, "a table that has a metatable cannot be used as a metatable in the sandbox");
            lua_pop(L, 1);
        } else {
            lua_rawgetp(L, LUA_REGISTRYINDEX, &key_metatable_guard);
            lua_setmetatable(L, 2);
        }
    }
    lua_setmetatable(L, 1);
    return 1;
}

// xpcall whose message handler is skipped once a limit is breached. Lua calls the handler at the
// point of the error, before unwinding; when the error comes from the limit hook, Lua is still
// inside the hook with hooks disabled (L->allowhook is restored only when the pcall unwinds), so
// a rule's handler would run unhooked and `xpcall(f, function() while true do end end)` would
// hang the host. A limit error cannot be handled anyway: after a breach the error value goes on
// unchanged. Otherwise the rule's handler runs as usual (hooks are on for errors raised by
// functions). Mirrors luaB_xpcall, continuation included, so xpcall stays yieldable.
static int guarded_handler(lua_State *L) {
    if (pinrules_getctx(L)->breached) return 1;     // the error value, unchanged
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int finish_xpcall(lua_State *L, int status, lua_KContext extra) {
    if (status != LUA_OK && status != LUA_YIELD) {
        lua_pushboolean(L, 0);
        lua_pushvalue(L, -2);
        return 2;
    }
    return lua_gettop(L) - (int)extra;
}

static int sandbox_xpcall(lua_State *L) {
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, guarded_handler, 1);
    lua_replace(L, 2);
    lua_pushboolean(L, 1);                           // first result
    lua_pushvalue(L, 1);                             // function
    lua_rotate(L, 3, 2);                             // below the function's arguments
    int status = lua_pcallk(L, n - 2, LUA_MULTRET, 2, 2, finish_xpcall);
    return finish_xpcall(L, status, 2);
}

static int sandbox_collectgarbage(lua_State *L) {
    const char *option = luaL_optstring(L, 1, "collect");
    if (strcmp(option, "count") == 0) {
        int kb = lua_gc(L, LUA_GCCOUNT, 0);
        int bytes = lua_gc(L, LUA_GCCOUNTB, 0);
        lua_pushnumber(L, (lua_Number)kb + ((lua_Number)bytes / 1024));
        return 1;
    }
    char name[64];
    snprintf(name, sizeof name, "collectgarbage(\"%.32s\")", option);
    return raise_forbidden(L, name, "is not available in the sandbox (only \"count\" is)");
}

// string.rep with its cost known up front: the stock one loops n times even for an empty
// result and allocates before any hook can see it.
static int sandbox_rep(lua_State *L) {
    size_t len, seplen;
    const char *s = luaL_checklstring(L, 1, &len);
    lua_Integer n = luaL_checkinteger(L, 2);
    const char *sep = luaL_optlstring(L, 3, "", &seplen);
    if (n <= 0 || (len == 0 && seplen == 0)) {
        lua_pushliteral(L, "");
        return 1;
    }
    size_t unit = len + seplen;
    pinrules_ctx *ctx = pinrules_getctx(L);
    size_t cap = ctx->memory_limit > 0 ? ctx->memory_limit : ((size_t)1 << 40);
    if ((lua_Unsigned)n > cap / unit + 1) {
        if (ctx->armed && ctx->memory_limit > 0) {
            ctx->breached = PINRULES_LIMIT_MEMORY;
            raise_limit(L, ctx);
        }
        return luaL_error(L, "resulting string too large");
    }
    size_t total = (size_t)n * len + (size_t)(n - 1) * seplen;
    pinrules_sandbox_charge(L, (lua_Integer)(total / 64));
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, total);
    for (lua_Integer i = 0; i < n; i++) {
        memcpy(p, s, len);
        p += len;
        if (seplen > 0 && i < n - 1) {
            memcpy(p, sep, seplen);
            p += seplen;
        }
    }
    luaL_pushresultsize(&b, total);
    return 1;
}

// table.move and table.sort run in C without hook checks: charge their work first.
//
// table.move is also cut into slices: moving nils allocates nothing, so with the instruction
// limit off or huge, `table.move({}, 1, 1e15, 2)` would otherwise run far past the deadline.
// Each slice goes through the stock function after charging it and checking every limit
// (deadline included). Slices run in the order that keeps an overlapping move correct, as the
// stock function orders its elements; argument checks and messages are the stock ones.
#define MOVE_SLICE 4096

static void move_slice(lua_State *L, int dest, lua_Integer s, lua_Integer c, lua_Integer t) {
    pinrules_sandbox_charge(L, c - s + 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_pushinteger(L, s);
    lua_pushinteger(L, c);
    lua_pushinteger(L, t);
    lua_pushvalue(L, dest);
    lua_call(L, 5, 0);
}

static int sandbox_move(lua_State *L) {
    lua_Integer f = luaL_checkinteger(L, 2);
    lua_Integer e = luaL_checkinteger(L, 3);
    lua_Integer t = luaL_checkinteger(L, 4);
    int too_many = e >= f && f <= 0 && e >= LUA_MAXINTEGER + f;   // e - f would overflow
    if (e < f || too_many || e - f < MOVE_SLICE) {
        // Small, empty or invalid (the stock function raises its own error): one call.
        if (e >= f && !too_many) pinrules_sandbox_charge(L, e - f + 1);
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_insert(L, 1);
        lua_call(L, lua_gettop(L) - 1, 1);
        return 1;
    }
    int dest = !lua_isnoneornil(L, 5) ? 5 : 1;
    lua_Integer n = e - f + 1;
    luaL_argcheck(L, t <= LUA_MAXINTEGER - n + 1, 4, "destination wrap around");
    if (t > e || t <= f || (dest != 1 && !lua_compare(L, 1, dest, LUA_OPEQ))) {
        for (lua_Integer s = f;;) {
            lua_Integer c = e - s >= MOVE_SLICE ? s + MOVE_SLICE - 1 : e;
            move_slice(L, dest, s, c, t + (s - f));
            if (c == e) break;
            s = c + 1;
        }
    } else {
        for (lua_Integer c = e;;) {
            lua_Integer s = c - f >= MOVE_SLICE ? c - MOVE_SLICE + 1 : f;
            move_slice(L, dest, s, c, t + (s - f));
            if (s == f) break;
            c = s - 1;
        }
    }
    lua_pushvalue(L, dest);
    return 1;
}

static int sandbox_sort(lua_State *L) {
    lua_Integer n = luaL_len(L, 1);
    // From INT_MAX on, the stock sort refuses the array ("array too big"); the bound also keeps
    // n * log2n from overflowing.
    if (n > 1 && n < INT_MAX) {
        lua_Integer log2n = 1;
        while (((lua_Integer)1 << log2n) < n && log2n < 62) log2n++;
        pinrules_sandbox_charge(L, n * log2n);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 0);
    return 0;
}

// load for text chunks only; compile time is charged by size (the compiler runs unhooked).
// Upvalue 1: the environment of the chunk this `load` belongs to.
static int sandbox_load(lua_State *L) {
    int env = !lua_isnone(L, 4) ? 4 : lua_upvalueindex(1);
    size_t len = 0;
    const char *chunkname;
    int status;
    if (lua_type(L, 1) == LUA_TSTRING) {
        const char *source = lua_tolstring(L, 1, &len);
        if (len > 0 && source[0] == LUA_SIGNATURE[0])
            return raise_forbidden(L, "load(binary chunk)", "is not available in the sandbox (load takes source text)");
        pinrules_sandbox_charge(L, (lua_Integer)(len / 4));
        chunkname = luaL_optstring(L, 2, source);
        // Binary chunks were refused above; a mode without 't' refuses text as stock Lua does.
        const char *mode = luaL_optstring(L, 3, "bt");
        status = luaL_loadbufferx(L, source, len, chunkname, strchr(mode, 't') ? "t" : "b");
    } else {
        return raise_forbidden(L, "load(function)", "is not available in the sandbox (load takes source text)");
    }
    if (status != LUA_OK) {
        luaL_pushfail(L);
        lua_insert(L, -2);
        return 2;
    }
    lua_pushvalue(L, env);
    if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
    return 1;
}

// null prints as "null".
static int null_tostring(lua_State *L) {
    lua_pushliteral(L, "null");
    return 1;
}

static int mark_table(lua_State *L, void *key) {
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_createtable(L, 0, 0);
    } else {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_settop(L, 1);
        pinrules_fill_if_lazy(L, 1);
        if (frozen_name(L, 1)) return luaL_argerror(L, 1, "a read-only table cannot be marked");
        if (lua_getmetatable(L, 1)) {
            if (!is_marker(L, -1)) return luaL_argerror(L, 1, "the table already has a metatable");
            lua_pop(L, 1);
        }
    }
    lua_rawgetp(L, LUA_REGISTRYINDEX, key);
    lua_setmetatable(L, 1);
    return 1;
}

static int host_array(lua_State *L) { return mark_table(L, &pinrules_key_array_mt); }
static int host_object(lua_State *L) { return mark_table(L, &pinrules_key_object_mt); }

// jsontype(v): "null", "boolean", "integer", "float", "string", "array", "object"; for a table
// without a marker, what the bridge would make of it; nil for values that cannot cross.
static int host_jsontype(lua_State *L) {
    luaL_checkany(L, 1);
    switch (lua_type(L, 1)) {
    case LUA_TNIL: lua_pushnil(L); return 1;
    case LUA_TBOOLEAN: lua_pushliteral(L, "boolean"); return 1;
    case LUA_TNUMBER: lua_pushstring(L, lua_isinteger(L, 1) ? "integer" : "float"); return 1;
    case LUA_TSTRING: lua_pushliteral(L, "string"); return 1;
    case LUA_TLIGHTUSERDATA:
        lua_rawgetp(L, LUA_REGISTRYINDEX, &pinrules_key_null);
        if (lua_rawequal(L, 1, -1)) { lua_pushliteral(L, "null"); return 1; }
        lua_pushnil(L);
        return 1;
    case LUA_TTABLE: {
        pinrules_fill_if_lazy(L, 1);
        if (lua_getmetatable(L, 1)) {
            lua_rawgetp(L, LUA_REGISTRYINDEX, &pinrules_key_array_mt);
            if (lua_rawequal(L, -1, -2)) { lua_pushliteral(L, "array"); return 1; }
            lua_rawgetp(L, LUA_REGISTRYINDEX, &pinrules_key_object_mt);
            if (lua_rawequal(L, -1, -3)) { lua_pushliteral(L, "object"); return 1; }
            lua_settop(L, 1);
        }
        lua_Integer count = 0, max = 0;
        int only_positive_integers = 1;
        lua_pushnil(L);
        while (lua_next(L, 1)) {
            lua_pop(L, 1);
            count++;
            if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0) {
                lua_Integer k = lua_tointeger(L, -1);
                if (k > max) max = k;
            } else {
                only_positive_integers = 0;
            }
        }
        lua_pushstring(L, count > 0 && only_positive_integers && max == count ? "array" : "object");
        return 1;
    }
    default: lua_pushnil(L); return 1;
    }
}

// Points the string metatable's __index at the sandbox's string table and shows rules a
// read-only description in its place.
static int host_set_string_metatable(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);   // real sandbox string table
    luaL_checktype(L, 2, LUA_TTABLE);   // what getmetatable("") shows
    lua_pushliteral(L, "");
    if (!lua_getmetatable(L, -1)) return luaL_error(L, "no string metatable");
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "__metatable");
    return 0;
}

static int host_register_patterns(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    pinrules_patterns_register(L, 1);
    return 0;
}

static int host_wrap_move(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_settop(L, 1);
    lua_pushcclosure(L, sandbox_move, 1);
    return 1;
}

static int host_wrap_sort(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_settop(L, 1);
    lua_pushcclosure(L, sandbox_sort, 1);
    return 1;
}

// host.loader(env) -> a `load` bound to env
static int host_loader(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    lua_pushcclosure(L, sandbox_load, 1);
    return 1;
}

// ---------------------------------------------------------------------------------------------
// State.

static int panic(lua_State *L) {
    const char *message = lua_tostring(L, -1);
    fprintf(stderr, "pinrules: unprotected Lua error (a PinRules bug): %s\n", message ? message : "?");
    abort();
}

lua_State *pinrules_open(pinrules_ctx *ctx) {
    lua_State *L = lua_newstate(sandbox_alloc, ctx);
    if (L == NULL) return NULL;
    *(pinrules_ctx **)lua_getextraspace(L) = ctx;
    lua_atpanic(L, panic);
    // Set before any rule code exists, so every coroutine inherits it at creation.
    if (!ctx->unguarded)
        lua_sethook(L, limit_hook, hook_mask(ctx), ctx->hook_interval > 0 ? ctx->hook_interval : 1000);
    return L;
}

void pinrules_close(lua_State *L, pinrules_ctx *ctx) {
    if (L) {
        ctx->armed = 0;
        lua_close(L);
    }
    free(ctx->message);
    free(ctx->traceback);
    free(ctx->out);
    free(ctx->warnings);
    pinrules_origins_free(ctx);
    ctx->message = ctx->traceback = ctx->warnings = NULL;
    ctx->out = NULL;
    ctx->out_len = ctx->out_cap = 0;
}

static void set_message(pinrules_ctx *ctx, const char *message, size_t length) {
    free(ctx->message);
    ctx->message = malloc(length + 1);
    if (ctx->message) {
        memcpy(ctx->message, message, length);
        ctx->message[length] = 0;
    }
}

static void clear_error(pinrules_ctx *ctx) {
    free(ctx->message);
    free(ctx->traceback);
    ctx->message = ctx->traceback = NULL;
    ctx->error_chunk[0] = 0;
    ctx->error_line = 0;
    ctx->forbidden_name[0] = 0;
    ctx->bad_path[0] = 0;
}

// Message handler: records where the error was raised (the innermost Lua function with a line)
// and a traceback, and returns the error value unchanged.
static int message_handler(lua_State *L) {
    pinrules_ctx *ctx = pinrules_getctx(L);
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            snprintf(ctx->error_chunk, sizeof ctx->error_chunk, "%s", ar.short_src);
            ctx->error_line = ar.currentline;
            break;
        }
    }
    if (!ctx->breached) {
        luaL_traceback(L, L, NULL, 1);
        size_t length;
        const char *text = lua_tolstring(L, -1, &length);
        free(ctx->traceback);
        ctx->traceback = malloc(length + 1);
        if (ctx->traceback) {
            memcpy(ctx->traceback, text, length);
            ctx->traceback[length] = 0;
        }
        lua_pop(L, 1);
    }
    return 1;
}

// Turns an error value that is not a string into a message, as lua.c does: its __tostring when
// it has one (rule code: runs protected, under the limits), a number as text, anything else as
// "(error object is a X value)". Everything that allocates happens in here, protected: the caller
// runs outside any protected call, possibly with memory at the cap.
static int error_to_string(lua_State *L) {
    if (luaL_getmetafield(L, 1, "__tostring") != LUA_TNIL || lua_type(L, 1) == LUA_TNUMBER) {
        luaL_tolstring(L, 1, NULL);
        return 1;
    }
    lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    return 1;
}

// Classifies a failure and fills ctx; leaves the stack at `base`.
static pinrules_status conclude(lua_State *L, pinrules_ctx *ctx, int status, int base, pinrules_status runtime_kind) {
    if (status == LUA_OK && !ctx->breached) return PINRULES_OK;
    // Read the message before disarming: a __tostring that loops must meet the limits.
    size_t length = 0;
    const char *text = NULL;
    char fallback[64];
    if (lua_type(L, -1) == LUA_TSTRING) {
        text = lua_tolstring(L, -1, &length);
    } else if (status != LUA_OK) {
        lua_pushcfunction(L, error_to_string);
        lua_pushvalue(L, -2);
        if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING) {
            text = lua_tolstring(L, -1, &length);
        } else {
            // __tostring failed (or memory ran out): no Lua allocation out here.
            snprintf(fallback, sizeof fallback, "(error object is a %s value)", luaL_typename(L, -2));
            text = fallback;
            length = strlen(fallback);
        }
    }
    // Functions that allocate through luaL_Buffer (string.rep, table.concat, string.format,
    // gsub...) call the allocator directly: a refusal there raises a plain runtime error "not
    // enough memory" without the retry that makes the allocator mark a breach. It is the memory
    // limit all the same.
    static const char oom[] = "not enough memory";
    int out_of_memory = status == LUA_ERRMEM ||
        (status != LUA_OK && ctx->refusals > 0 && text && length == sizeof oom - 1 && memcmp(text, oom, length) == 0);
    pinrules_status result;
    if (ctx->breached || out_of_memory) {
        if (!ctx->breached) ctx->breached = PINRULES_LIMIT_MEMORY;
        const char *m = limit_message(ctx);
        set_message(ctx, m, strlen(m));
        result = PINRULES_LIMIT;
    } else {
        if (!text) { text = "(no error message)"; length = strlen(text); }
        set_message(ctx, text, length);
        if (status == LUA_ERRSYNTAX) {
            result = PINRULES_SYNTAX;
        } else if (runtime_kind == PINRULES_BAD_RETURN || runtime_kind == PINRULES_HOST) {
            result = runtime_kind;
        } else if (ctx->forbidden_name[0] && strstr(text, ctx->forbidden_name) != NULL &&
                   (strstr(text, "is not available") || strstr(text, "are not allowed") || strstr(text, "read-only"))) {
            result = PINRULES_FORBIDDEN;
        } else {
            result = runtime_kind;
        }
    }
    lua_settop(L, base);
    return result;
}

// ---------------------------------------------------------------------------------------------
// Setup.

static int setup_body(lua_State *L) {
    const char *bootstrap = (const char *)lua_touserdata(L, 1);
    size_t length = (size_t)lua_tointeger(L, 2);
    luaL_openlibs(L);
    // Every call leaves a few kilobytes of young garbage (the event's tables) next to a
    // long-lived heap (libraries, rules): the generational collector's case.
    lua_gc(L, LUA_GCGEN, 0, 0);

    lua_pushlightuserdata(L, &pinrules_key_null);   // the null sentinel is this address
    lua_rawsetp(L, LUA_REGISTRYINDEX, &pinrules_key_null);
    // Light userdata share one metatable; null is the only one rules ever see.
    lua_pushlightuserdata(L, &pinrules_key_null);
    lua_createtable(L, 0, 3);
    lua_pushcfunction(L, null_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "null");
    lua_setfield(L, -2, "__name");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);

    lua_createtable(L, 0, 1);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &pinrules_key_array_mt);
    lua_createtable(L, 0, 1);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &pinrules_key_object_mt);

    pinrules_bridge_setup(L);

    lua_createtable(L, 0, 2);                       // the guard of metatables set by rules
    lua_pushcfunction(L, guard_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key_metatable_guard);

    lua_createtable(L, 0, 16);                      // weak-keyed set of read-only proxies
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &pinrules_key_frozen);

    lua_createtable(L, 0, 4);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key_coverage);

    if (luaL_loadbufferx(L, bootstrap, length, "=sandbox", "t") != LUA_OK) return lua_error(L);
    static const luaL_Reg host_functions[] = {
        {"guard_missing", host_guard_missing},
        {"freeze", host_freeze},
        {"rawset", sandbox_rawset},
        {"rawget", sandbox_rawget},
        {"rawlen", sandbox_rawlen},
        {"next", pinrules_next},
        {"setmetatable", sandbox_setmetatable},
        {"collectgarbage", sandbox_collectgarbage},
        {"xpcall", sandbox_xpcall},
        {"rep", sandbox_rep},
        {"array", host_array},
        {"object", host_object},
        {"jsontype", host_jsontype},
        {"set_string_metatable", host_set_string_metatable},
        {"register_patterns", host_register_patterns},
        {"wrap_move", host_wrap_move},
        {"wrap_sort", host_wrap_sort},
        {"loader", host_loader},
        {NULL, NULL},
    };
    luaL_newlib(L, host_functions);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &pinrules_key_null);
    lua_setfield(L, -2, "null");
    lua_pushglobaltable(L);
    lua_call(L, 2, 2);                              // -> make_env, trusted_env
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key_trusted_env);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key_make_env);
    // Nothing of the full standard library stays reachable: the bootstrap copied what rules get.
    lua_pushnil(L);
    lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    return 0;
}

pinrules_status pinrules_setup(lua_State *L, const char *bootstrap, size_t length) {
    pinrules_ctx *ctx = pinrules_getctx(L);
    clear_error(ctx);
    int base = lua_gettop(L);
    lua_pushcfunction(L, setup_body);
    lua_pushlightuserdata(L, (void *)bootstrap);
    lua_pushinteger(L, (lua_Integer)length);
    int status = lua_pcall(L, 2, 0, 0);
    return conclude(L, ctx, status, base, PINRULES_RUNTIME);
}

// ---------------------------------------------------------------------------------------------
// Loading chunks.

typedef struct load_args {
    const char *source;
    size_t length;
    const char *chunkname;
    int trusted;
    int *ref;
    int phase;   // 0 compiling, 1 running
    int compile_status;
} load_args;

static int load_body(lua_State *L) {
    load_args *args = (load_args *)lua_touserdata(L, 1);
    pinrules_sandbox_charge(L, (lua_Integer)(args->length / 4));
    int status = luaL_loadbufferx(L, args->source, args->length, args->chunkname, "t");
    args->compile_status = status;
    if (status != LUA_OK) return lua_error(L);       // syntax (or memory) error, phase 0
    args->phase = 1;
    if (args->trusted == PINRULES_LOAD_TRUSTED) {
        lua_rawgetp(L, LUA_REGISTRYINDEX, &key_trusted_env);
    } else {
        lua_rawgetp(L, LUA_REGISTRYINDEX, &key_make_env);
        lua_call(L, 0, 1);
    }
    lua_setupvalue(L, -2, 1);                        // _ENV
    lua_pushcfunction(L, message_handler);
    lua_insert(L, -2);
    int run = lua_pcall(L, 0, 1, -2);
    if (run != LUA_OK) return lua_error(L);           // rethrow; the handler already recorded
    *args->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

pinrules_status pinrules_load(lua_State *L, const char *source, size_t length, const char *chunkname,
                              int trusted, int *ref) {
    pinrules_ctx *ctx = pinrules_getctx(L);
    clear_error(ctx);
    int base = lua_gettop(L);
    load_args args = {source, length, chunkname, trusted, ref, 0, LUA_OK};
    arm(ctx, L);
    lua_pushcfunction(L, load_body);
    lua_pushlightuserdata(L, &args);
    int status = lua_pcall(L, 1, 0, 0);
    // lua_error rethrows the compiler's failure as LUA_ERRRUN: restore what it was, so that
    // running out of memory while compiling is a memory limit, not a syntax error.
    if (status == LUA_ERRRUN && args.phase == 0 && !ctx->breached && args.compile_status != LUA_OK)
        status = args.compile_status;
    pinrules_status result = conclude(L, ctx, status, base, PINRULES_RUNTIME);
    disarm(ctx);
    return result;
}

// Compiles without running (the host uses it to locate a syntax error's column). Under the limits.
static int compile_body(lua_State *L) {
    load_args *args = (load_args *)lua_touserdata(L, 1);
    pinrules_sandbox_charge(L, (lua_Integer)(args->length / 4));
    int status = luaL_loadbufferx(L, args->source, args->length, args->chunkname, "t");
    args->compile_status = status;
    if (status != LUA_OK) return lua_error(L);
    return 0;
}

pinrules_status pinrules_compile(lua_State *L, const char *source, size_t length, const char *chunkname) {
    pinrules_ctx *ctx = pinrules_getctx(L);
    clear_error(ctx);
    int base = lua_gettop(L);
    load_args args = {source, length, chunkname, 0, NULL, 0, LUA_OK};
    arm(ctx, L);
    lua_pushcfunction(L, compile_body);
    lua_pushlightuserdata(L, &args);
    int status = lua_pcall(L, 1, 0, 0);
    if (status == LUA_ERRRUN && !ctx->breached && args.compile_status != LUA_OK) status = args.compile_status;
    pinrules_status result = conclude(L, ctx, status, base, PINRULES_RUNTIME);
    disarm(ctx);
    return result;
}

// ---------------------------------------------------------------------------------------------
// Calls.

typedef struct call_args {
    int ref;
    const char *field;
    const uint8_t *tape;
    size_t length;
    int phase;   // 0 preparing, 1 running, 2 reading back
} call_args;

static int call_body(lua_State *L) {
    call_args *args = (call_args *)lua_touserdata(L, 1);
    pinrules_ctx *ctx = pinrules_getctx(L);
    lua_settop(L, 0);
    lua_pushcfunction(L, message_handler);
    if (lua_rawgeti(L, LUA_REGISTRYINDEX, args->ref) == LUA_TNIL)
        return luaL_error(L, "PinRules host error: no value for reference %d", args->ref);
    if (args->field) {
        if (lua_type(L, -1) != LUA_TTABLE) return luaL_error(L, "PinRules host error: reference %d is not a table", args->ref);
        lua_pushstring(L, args->field);
        lua_rawget(L, -2);
        lua_remove(L, -2);
    }
    if (lua_type(L, -1) != LUA_TFUNCTION)
        return luaL_error(L, "PinRules host error: '%s' is not a function", args->field ? args->field : "reference");
    int nargs = pinrules_push_tape(L, args->tape, args->length);
    if (nargs < 0) return luaL_error(L, "PinRules host error: malformed argument tape");
    args->phase = 1;
    int status = lua_pcall(L, nargs, LUA_MULTRET, 1);
    if (status != LUA_OK) return lua_error(L);
    if (ctx->breached) raise_limit(L, ctx);
    args->phase = 2;
    pinrules_read_results(L, 2, lua_gettop(L));
    return 0;
}

pinrules_status pinrules_call(lua_State *L, int ref, const char *field, const uint8_t *tape, size_t length) {
    pinrules_ctx *ctx = pinrules_getctx(L);
    clear_error(ctx);
    ctx->out_len = 0;
    ctx->out_count = 0;
    ctx->out_invalid_utf8 = 0;
    free(ctx->warnings);
    ctx->warnings = NULL;
    int base = lua_gettop(L);
    call_args args = {ref, field, tape, length, 0};
    arm(ctx, L);
    lua_pushcfunction(L, call_body);
    lua_pushlightuserdata(L, &args);
    int status = lua_pcall(L, 1, 0, 0);
    pinrules_origins_forget(ctx);
    pinrules_status kind = args.phase == 2 ? PINRULES_BAD_RETURN : (args.phase == 0 ? PINRULES_HOST : PINRULES_RUNTIME);
    pinrules_status result = conclude(L, ctx, status, base, kind);
    disarm(ctx);
    return result;
}

typedef struct field_args {
    int ref;
    const char *field;
    int *out;
} field_args;

static int field_body(lua_State *L) {
    field_args *args = (field_args *)lua_touserdata(L, 1);
    if (lua_rawgeti(L, LUA_REGISTRYINDEX, args->ref) != LUA_TTABLE)
        return luaL_error(L, "PinRules host error: reference %d is not a table", args->ref);
    lua_pushstring(L, args->field);
    if (lua_rawget(L, -2) == LUA_TNIL) return luaL_error(L, "PinRules host error: no field '%s'", args->field);
    *args->out = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

pinrules_status pinrules_ref_field(lua_State *L, int ref, const char *field, int *out) {
    pinrules_ctx *ctx = pinrules_getctx(L);
    clear_error(ctx);
    int base = lua_gettop(L);
    field_args args = {ref, field, out};
    lua_pushcfunction(L, field_body);
    lua_pushlightuserdata(L, &args);
    int status = lua_pcall(L, 1, 0, 0);
    return conclude(L, ctx, status, base, PINRULES_HOST);
}

static int coverage_body(lua_State *L) {
    pinrules_origins_forget(pinrules_getctx(L));
    lua_settop(L, 0);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &key_coverage);         // 1: source -> {line = true}
    lua_rawgetp(L, LUA_REGISTRYINDEX, &pinrules_key_object_mt);
    lua_createtable(L, 0, 4);                                  // 3: source -> array of lines
    lua_pushvalue(L, 2);
    lua_setmetatable(L, 3);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &pinrules_key_array_mt); // 4
    lua_pushnil(L);
    while (lua_next(L, 1)) {                                   // 5 key, 6 lines
        lua_createtable(L, 16, 0);                             // 7
        lua_pushvalue(L, 4);
        lua_setmetatable(L, 7);
        lua_Integer n = 0;
        lua_pushnil(L);
        while (lua_next(L, 6)) {
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            lua_rawseti(L, 7, ++n);
        }
        lua_pushvalue(L, 5);
        lua_insert(L, -2);
        lua_rawset(L, 3);
        lua_pop(L, 1);
    }
    pinrules_read_results(L, 3, 3);
    return 0;
}

pinrules_status pinrules_coverage(lua_State *L) {
    pinrules_ctx *ctx = pinrules_getctx(L);
    clear_error(ctx);
    int base = lua_gettop(L);
    lua_pushcfunction(L, coverage_body);
    int status = lua_pcall(L, 0, 0, 0);
    return conclude(L, ctx, status, base, PINRULES_HOST);
}

void pinrules_unref(lua_State *L, int ref) {
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
}

static int collect_body(lua_State *L) {
    lua_gc(L, LUA_GCCOLLECT);
    return 0;
}

void pinrules_collect(lua_State *L) {
    lua_pushcfunction(L, collect_body);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) lua_pop(L, 1);
}
