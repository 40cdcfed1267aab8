// The value bridge: JSON values cross between Swift and Lua as a compact tape, so the Lua side
// is built and read entirely in C, inside protected calls, in one pass each way.
//
// Tape encoding (little-endian):
//   'n' null   't' true   'f' false
//   'i' int64          'd' float64
//   's' u32 length, bytes
//   'a' u32 count, values              (a Lua table marked as array)
//   'o' u32 count, (u32 length, key bytes, value) * count   (marked as object)
//   'r' i32 registry reference         (arguments only: a Lua value the host holds)
// An argument tape starts with a u32 argument count.
#include "sandbox_internal.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------------------------------------
// Swift -> Lua

typedef struct tape_reader {
    const uint8_t *p;
    const uint8_t *end;
    int max_depth;
} tape_reader;

static int read_u32(tape_reader *r, uint32_t *value) {
    if (r->end - r->p < 4) return 0;
    memcpy(value, r->p, 4);
    r->p += 4;
    return 1;
}

static int push_value(lua_State *L, tape_reader *r, int depth) {
    if (r->p >= r->end) return 0;
    uint8_t tag = *r->p++;
    switch (tag) {
    case 'n': lua_rawgetp(L, LUA_REGISTRYINDEX, &pinrules_key_null); return 1;
    case 't': lua_pushboolean(L, 1); return 1;
    case 'f': lua_pushboolean(L, 0); return 1;
    case 'i': {
        if (r->end - r->p < 8) return 0;
        int64_t v;
        memcpy(&v, r->p, 8);
        r->p += 8;
        lua_pushinteger(L, (lua_Integer)v);
        return 1;
    }
    case 'd': {
        if (r->end - r->p < 8) return 0;
        double v;
        memcpy(&v, r->p, 8);
        r->p += 8;
        lua_pushnumber(L, (lua_Number)v);
        return 1;
    }
    case 's': {
        uint32_t n;
        if (!read_u32(r, &n) || (size_t)(r->end - r->p) < n) return 0;
        lua_pushlstring(L, (const char *)r->p, n);
        r->p += n;
        return 1;
    }
    case 'r': {
        uint32_t ref;
        if (!read_u32(r, &ref)) return 0;
        lua_rawgeti(L, LUA_REGISTRYINDEX, (lua_Integer)(int32_t)ref);
        return 1;
    }
    case 'a': {
        uint32_t n;
        if (!read_u32(r, &n) || depth >= r->max_depth) return 0;
        luaL_checkstack(L, 3, "nesting too deep");
        lua_createtable(L, n > 1u << 24 ? 1 << 24 : (int)n, 0);
        lua_rawgetp(L, LUA_REGISTRYINDEX, &pinrules_key_array_mt);
        lua_setmetatable(L, -2);
        for (uint32_t i = 0; i < n; i++) {
            if (!push_value(L, r, depth + 1)) return 0;
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        return 1;
    }
    case 'o': {
        uint32_t n;
        if (!read_u32(r, &n) || depth >= r->max_depth) return 0;
        luaL_checkstack(L, 4, "nesting too deep");
        lua_createtable(L, 0, n > 1u << 24 ? 1 << 24 : (int)n);
        lua_rawgetp(L, LUA_REGISTRYINDEX, &pinrules_key_object_mt);
        lua_setmetatable(L, -2);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t k;
            if (!read_u32(r, &k) || (size_t)(r->end - r->p) < k) return 0;
            lua_pushlstring(L, (const char *)r->p, k);
            r->p += k;
            if (!push_value(L, r, depth + 1)) return 0;
            lua_rawset(L, -3);
        }
        return 1;
    }
    default:
        return 0;
    }
}

int pinrules_push_tape(lua_State *L, const uint8_t *tape, size_t length) {
    pinrules_ctx *ctx = pinrules_getctx(L);
    tape_reader r = {tape, tape + length, ctx->max_depth > 0 ? ctx->max_depth : 256};
    uint32_t count;
    if (!read_u32(&r, &count)) return -1;
    luaL_checkstack(L, (int)(count > 200 ? 200 : count) + 2, "too many arguments");
    for (uint32_t i = 0; i < count; i++) {
        if (!push_value(L, &r, 0)) return -1;
    }
    return r.p == r.end ? (int)count : -1;
}

// ---------------------------------------------------------------------------------------------
// Lua -> Swift

#define MAX_DEPTH_CAP 1024

typedef struct path_segment {
    const char *key;     // NULL for an array index
    size_t key_length;
    lua_Integer index;
} path_segment;

typedef struct tape_writer {
    lua_State *L;
    pinrules_ctx *ctx;
    int max_depth;
    size_t max_bytes;
    const void *ancestors[MAX_DEPTH_CAP + 1];
    path_segment path[MAX_DEPTH_CAP + 1];
    int depth;
} tape_writer;

static int is_identifier(const char *s, size_t n) {
    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_')) return 0;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return 0;
    }
    return 1;
}

// Writes the path of the value being read (`properties.products[2].name`) into ctx->bad_path.
static void format_path(tape_writer *w) {
    char *out = w->ctx->bad_path;
    size_t cap = sizeof w->ctx->bad_path, used = 0;
    out[0] = 0;
    for (int i = 0; i < w->depth && used + 1 < cap; i++) {
        path_segment *s = &w->path[i];
        int n;
        if (s->key == NULL) {
            n = snprintf(out + used, cap - used, "[%lld]", (long long)s->index);
        } else if (is_identifier(s->key, s->key_length)) {
            n = snprintf(out + used, cap - used, "%s%.*s", used ? "." : "", (int)(s->key_length > 100 ? 100 : s->key_length), s->key);
        } else {
            // Escaped as in Lua source, so a key with a quote, a NUL or a newline cannot make the
            // path ambiguous (warnings are newline-separated).
            char key[100 * 4 + 1];
            size_t k = 0;
            for (size_t j = 0; j < s->key_length && j < 100; j++) {
                unsigned char c = (unsigned char)s->key[j];
                if (c == '"' || c == '\\') { key[k++] = '\\'; key[k++] = (char)c; }
                else if (c < 0x20 || c == 0x7F) k += (size_t)snprintf(key + k, sizeof key - k, "\\%u", c);
                else key[k++] = (char)c;
            }
            key[k] = 0;
            n = snprintf(out + used, cap - used, "[\"%s\"]", key);
        }
        if (n < 0) break;
        used += (size_t)n;
        if (used >= cap) { used = cap - 1; break; }
    }
}

static void fail(tape_writer *w, const char *reason) {
    format_path(w);
    luaL_error(w->L, "%s", reason);
}

static void grow(tape_writer *w, size_t extra) {
    pinrules_ctx *ctx = w->ctx;
    if (ctx->out_len + extra > w->max_bytes) {
        char reason[96];
        snprintf(reason, sizeof reason, "the result is larger than %zu bytes", w->max_bytes);
        fail(w, reason);
    }
    if (ctx->out_len + extra <= ctx->out_cap) return;
    size_t cap = ctx->out_cap ? ctx->out_cap : 4096;
    while (cap < ctx->out_len + extra) cap *= 2;
    uint8_t *block = realloc(ctx->out, cap);
    if (block == NULL) {
        ctx->breached = PINRULES_LIMIT_MEMORY;
        luaL_error(w->L, "memory limit exceeded");
    }
    ctx->out = block;
    ctx->out_cap = cap;
}

static void put_byte(tape_writer *w, uint8_t b) {
    grow(w, 1);
    w->ctx->out[w->ctx->out_len++] = b;
}

static void put_bytes(tape_writer *w, const void *p, size_t n) {
    grow(w, n);
    memcpy(w->ctx->out + w->ctx->out_len, p, n);
    w->ctx->out_len += n;
}

static void put_u32(tape_writer *w, uint32_t v) { put_bytes(w, &v, 4); }

// Strict UTF-8 (no overlongs, surrogates or values past U+10FFFF); ASCII runs fast.
static int valid_utf8(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        while (i + 8 <= n) {
            uint64_t chunk;
            memcpy(&chunk, s + i, 8);
            if (chunk & 0x8080808080808080ULL) break;
            i += 8;
        }
        if (i >= n) break;
        unsigned char c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t len;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c == 0xE0) { len = 3; lo = 0xA0; }
        else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) len = 3;
        else if (c == 0xED) { len = 3; hi = 0x9F; }
        else if (c == 0xF0) { len = 4; lo = 0x90; }
        else if (c >= 0xF1 && c <= 0xF3) len = 4;
        else if (c == 0xF4) { len = 4; hi = 0x8F; }
        else return 0;
        if (i + len > n || s[i + 1] < lo || s[i + 1] > hi) return 0;
        for (size_t k = 2; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80) return 0;
        i += len;
    }
    return 1;
}

// Invalid UTF-8 is repaired by the host (U+FFFD); the path is reported as a warning.
static void note_invalid_utf8(tape_writer *w) {
    format_path(w);
    pinrules_ctx *ctx = w->ctx;
    size_t old = ctx->warnings ? strlen(ctx->warnings) : 0;
    if (old > 8192) return;
    const char *path = ctx->bad_path[0] ? ctx->bad_path : "(result)";
    size_t add = strlen(path) + 1;
    char *block = realloc(ctx->warnings, old + add + 1);
    if (block == NULL) return;
    memcpy(block + old, path, add - 1);
    block[old + add - 1] = '\n';
    block[old + add] = 0;
    ctx->warnings = block;
    ctx->bad_path[0] = 0;
}

static void put_string(tape_writer *w, const char *s, size_t n, uint8_t tag) {
    if (!valid_utf8((const unsigned char *)s, n)) note_invalid_utf8(w);
    if (tag) put_byte(w, tag);
    if (n > UINT32_MAX) fail(w, "a string is too long");
    put_u32(w, (uint32_t)n);
    put_bytes(w, s, n);
}

static void write_value(tape_writer *w, int index);

static void write_table(tape_writer *w, int index) {
    lua_State *L = w->L;
    const void *self = lua_topointer(L, index);
    for (int i = 0; i < w->depth; i++) {
        if (w->ancestors[i] == self) fail(w, "a table contains itself (a cycle)");
    }
    if (w->depth >= w->max_depth) {
        char reason[64];
        snprintf(reason, sizeof reason, "nesting deeper than %d", w->max_depth);
        fail(w, reason);
    }
    luaL_checkstack(L, 4, "nesting too deep");
    int marker = 0;  // 1 array, 2 object
    if (lua_getmetatable(L, index)) {
        lua_rawgetp(L, LUA_REGISTRYINDEX, &pinrules_key_array_mt);
        if (lua_rawequal(L, -1, -2)) marker = 1;
        lua_pop(L, 1);
        if (!marker) {
            lua_rawgetp(L, LUA_REGISTRYINDEX, &pinrules_key_object_mt);
            if (lua_rawequal(L, -1, -2)) marker = 2;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    // First pass: what kinds of keys are there?
    lua_Integer count = 0, max_index = 0;
    int strings = 0, positive_integers = 0, others = 0;
    lua_pushnil(L);
    while (lua_next(L, index)) {
        lua_pop(L, 1);
        count++;
        int type = lua_type(L, -1);
        if (type == LUA_TSTRING) strings++;
        else if (type == LUA_TNUMBER && lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0) {
            positive_integers++;
            if (lua_tointeger(L, -1) > max_index) max_index = lua_tointeger(L, -1);
        } else others++;
    }
    int as_array;
    if (marker == 1) {
        if (strings || others) fail(w, "an array has non-integer keys");
        if (max_index != count) fail(w, "an array has holes (its keys are not 1..n)");
        as_array = 1;
    } else if (marker == 2) {
        if (positive_integers || others) fail(w, "an object has a non-string key");
        as_array = 0;
    } else if (count == 0 || (strings == count)) {
        as_array = 0;
    } else if (positive_integers == count) {
        if (max_index != count) fail(w, "a table has integer keys that are not 1..n (a sparse array)");
        as_array = 1;
    } else {
        fail(w, others ? "a table has keys that are neither strings nor positive integers"
                       : "a table mixes array and object keys");
        return;
    }
    if (count > (lua_Integer)UINT32_MAX) fail(w, "a table is too large");
    w->ancestors[w->depth] = self;
    if (as_array) {
        put_byte(w, 'a');
        put_u32(w, (uint32_t)count);
        for (lua_Integer i = 1; i <= count; i++) {
            lua_rawgeti(L, index, i);
            w->path[w->depth].key = NULL;
            w->path[w->depth].index = i;
            w->depth++;
            write_value(w, lua_gettop(L));
            w->depth--;
            lua_pop(L, 1);
        }
    } else {
        put_byte(w, 'o');
        put_u32(w, (uint32_t)count);
        lua_pushnil(L);
        while (lua_next(L, index)) {
            size_t n;
            const char *key = lua_tolstring(L, -2, &n);  // a string: no conversion in place
            w->path[w->depth].key = key;
            w->path[w->depth].key_length = n;
            w->depth++;
            put_string(w, key, n, 0);
            write_value(w, lua_gettop(L));
            w->depth--;
            lua_pop(L, 1);
        }
    }
}

static void write_value(tape_writer *w, int index) {
    lua_State *L = w->L;
    switch (lua_type(L, index)) {
    case LUA_TNIL: put_byte(w, 'n'); return;
    case LUA_TBOOLEAN: put_byte(w, lua_toboolean(L, index) ? 't' : 'f'); return;
    case LUA_TNUMBER:
        if (lua_isinteger(L, index)) {
            int64_t v = (int64_t)lua_tointeger(L, index);
            put_byte(w, 'i');
            put_bytes(w, &v, 8);
        } else {
            double v = (double)lua_tonumber(L, index);
            if (!isfinite(v)) fail(w, "a number is not finite (JSON has no NaN or infinity)");
            put_byte(w, 'd');
            put_bytes(w, &v, 8);
        }
        return;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, index, &n);
        put_string(w, s, n, 's');
        return;
    }
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, index) == &pinrules_key_null) {
            put_byte(w, 'n');
            return;
        }
        fail(w, "a userdata value cannot be returned");
        return;
    case LUA_TTABLE: write_table(w, index); return;
    case LUA_TFUNCTION: fail(w, "a function value cannot be returned"); return;
    case LUA_TTHREAD: fail(w, "a coroutine (thread) value cannot be returned"); return;
    default: fail(w, "a userdata value cannot be returned"); return;
    }
}

void pinrules_read_results(lua_State *L, int first, int last) {
    pinrules_ctx *ctx = pinrules_getctx(L);
    // On the C stack: a raise must not leak it.
    tape_writer w;
    w.L = L;
    w.ctx = ctx;
    w.max_depth = ctx->max_depth > 0 && ctx->max_depth <= MAX_DEPTH_CAP ? ctx->max_depth : 256;
    w.max_bytes = ctx->max_result_bytes > 0 ? ctx->max_result_bytes : (size_t)64 << 20;
    w.depth = 0;
    ctx->out_len = 0;
    ctx->out_count = 0;
    for (int index = first; index <= last; index++) {
        ctx->bad_result = index - first + 1;
        write_value(&w, index);
        ctx->out_count++;
    }
    ctx->bad_result = 0;
}
