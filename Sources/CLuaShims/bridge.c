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
//
// Results only:
//   '=' u32 node         a table that is, unchanged, argument container number `node`
//                        (containers are numbered in tape order from 0): the host reuses the
//                        value it sent instead of decoding a copy
//   'O' u32 node, then as 'o'   an object that came in as container `node` but changed: the host
//                        gives its keys the order they came in with; a member whose key length
//                        reads 0xFFFFFFFF is followed by a u32 index instead: that member of the
//                        argument object, key and value unchanged
//
// Most hooks change little of the event they get, so most of it comes back as '=' markers.
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

// ---------------------------------------------------------------------------------------------
// Where argument tables came from: for every container pushed, its table, its members' places
// on the tape, and a pointer-keyed index to find it again when reading results back.

typedef struct origin_member {
    const uint8_t *key;       // NULL for array elements
    uint32_t key_length;
    const uint8_t *value;     // the member's tag on the argument tape
    // The bytes of the Lua string pushed for the key. Lua interns short strings, so a key still
    // in the table is usually the very same pointer: the search compares pointers first. (The
    // string could have been collected and its address reused, so a hit is still verified.)
    const char *lua_key;
} origin_member;

typedef struct origin_node {
    const void *table;
    const uint8_t *at;        // its tag on the argument tape
    uint8_t kind;             // 'a' or 'o'
    uint32_t first_member;
    uint32_t member_count;
    int8_t unchanged;         // -1 not known yet, 0 changed, 1 unchanged
} origin_node;

struct pinrules_origins {
    origin_node *nodes;
    uint32_t node_count, node_capacity;
    origin_member *members;
    uint32_t member_count, member_capacity;
    uint32_t *index;          // open addressing over nodes by table pointer; UINT32_MAX = empty
    uint32_t index_capacity;  // a power of two, or 0
    int indexed;              // the index describes the current nodes
};

void pinrules_origins_free(pinrules_ctx *ctx) {
    struct pinrules_origins *o = ctx->origins;
    if (!o) return;
    free(o->nodes);
    free(o->members);
    free(o->index);
    free(o);
    ctx->origins = NULL;
}

static struct pinrules_origins *origins_reset(lua_State *L, pinrules_ctx *ctx) {
    if (!ctx->origins) {
        ctx->origins = calloc(1, sizeof(struct pinrules_origins));
        if (!ctx->origins) luaL_error(L, "not enough memory");
    }
    struct pinrules_origins *o = ctx->origins;
    o->node_count = 0;
    o->member_count = 0;
    o->indexed = 0;
    return o;
}

void pinrules_origins_forget(pinrules_ctx *ctx) {
    if (ctx->origins) {
        ctx->origins->node_count = 0;
        ctx->origins->indexed = 0;
    }
}

static void *grow_array(lua_State *L, void *block, uint32_t *capacity, uint32_t needed, size_t size) {
    if (needed <= *capacity) return block;
    uint32_t next = *capacity ? *capacity : 64;
    while (next < needed) next *= 2;
    void *grown = realloc(block, (size_t)next * size);
    if (!grown) luaL_error(L, "not enough memory");
    *capacity = next;
    return grown;
}

static uint32_t hash_pointer(const void *p, uint32_t mask) {
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (uint32_t)x & mask;
}

// Builds the pointer index once every argument is pushed.
static void origins_index(lua_State *L, struct pinrules_origins *o) {
    uint32_t capacity = 16;
    while (capacity < o->node_count * 2) capacity *= 2;
    if (capacity > o->index_capacity) {
        uint32_t *grown = realloc(o->index, (size_t)capacity * sizeof(uint32_t));
        if (!grown) luaL_error(L, "not enough memory");
        o->index = grown;
        o->index_capacity = capacity;
    }
    memset(o->index, 0xFF, (size_t)o->index_capacity * sizeof(uint32_t));
    uint32_t mask = o->index_capacity - 1;
    for (uint32_t i = 0; i < o->node_count; i++) {
        uint32_t slot = hash_pointer(o->nodes[i].table, mask);
        while (o->index[slot] != UINT32_MAX) slot = (slot + 1) & mask;
        o->index[slot] = i;
    }
    o->indexed = 1;
}

static origin_node *origin_of(struct pinrules_origins *o, const void *table, uint32_t *number) {
    if (!o || !o->indexed || o->node_count == 0) return NULL;
    uint32_t mask = o->index_capacity - 1;
    for (uint32_t slot = hash_pointer(table, mask); o->index[slot] != UINT32_MAX; slot = (slot + 1) & mask) {
        origin_node *node = &o->nodes[o->index[slot]];
        if (node->table == table) {
            *number = o->index[slot];
            return node;
        }
    }
    return NULL;
}

static int push_value(lua_State *L, tape_reader *r, int depth);

// Pushes a container and records where it came from.
static int push_container(lua_State *L, tape_reader *r, int depth, uint8_t kind) {
    pinrules_ctx *ctx = pinrules_getctx(L);
    struct pinrules_origins *o = ctx->origins;
    const uint8_t *at = r->p - 1;
    uint32_t n;
    if (!read_u32(r, &n) || depth >= r->max_depth) return 0;
    luaL_checkstack(L, 4, "nesting too deep");
    int capped = n > 1u << 24 ? 1 << 24 : (int)n;
    if (kind == 'a') lua_createtable(L, capped, 0);
    else lua_createtable(L, 0, capped);
    lua_rawgetp(L, LUA_REGISTRYINDEX, kind == 'a' ? &pinrules_key_array_mt : &pinrules_key_object_mt);
    lua_setmetatable(L, -2);
    o->nodes = grow_array(L, o->nodes, &o->node_capacity, o->node_count + 1, sizeof(origin_node));
    uint32_t number = o->node_count++;
    uint32_t first = o->member_count;
    o->members = grow_array(L, o->members, &o->member_capacity, first + n, sizeof(origin_member));
    o->member_count += n;
    o->nodes[number] = (origin_node){lua_topointer(L, -1), at, kind, first, n, -1};
    for (uint32_t i = 0; i < n; i++) {
        origin_member member = {NULL, 0, NULL, NULL};
        if (kind == 'o') {
            uint32_t k;
            if (!read_u32(r, &k) || (size_t)(r->end - r->p) < k) return 0;
            member.key = r->p;
            member.key_length = k;
            member.lua_key = lua_pushlstring(L, (const char *)r->p, k);
            r->p += k;
        }
        member.value = r->p;
        o->members[first + i] = member;
        if (!push_value(L, r, depth + 1)) return 0;
        if (kind == 'o') lua_rawset(L, -3);
        else lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
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
    case 'a': return push_container(L, r, depth, 'a');
    case 'o': return push_container(L, r, depth, 'o');
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
    origins_reset(L, ctx);
    for (uint32_t i = 0; i < count; i++) {
        if (!push_value(L, &r, 0)) return -1;
    }
    origins_index(L, ctx->origins);
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

static int table_unchanged(lua_State *L, struct pinrules_origins *o, uint32_t number, int index, int depth);

// The member of an argument object with this key: by the interned pointer first, then by bytes.
static const origin_member *find_member(const origin_member *members, uint32_t count, const char *key, size_t len) {
    for (uint32_t i = 0; i < count; i++) {
        if (members[i].lua_key == key && members[i].key_length == len && memcmp(members[i].key, key, len) == 0)
            return &members[i];
    }
    for (uint32_t i = 0; i < count; i++) {
        if (members[i].key_length == len && memcmp(members[i].key, key, len) == 0) return &members[i];
    }
    return NULL;
}

// Is the Lua value at `index` exactly the argument value whose tag is at `tape`?
static int value_unchanged(lua_State *L, struct pinrules_origins *o, int index, const origin_member *member, int depth) {
    const uint8_t *tape = member->value;
    switch (tape[0]) {
    case 'n': return lua_touserdata(L, index) == &pinrules_key_null && lua_type(L, index) == LUA_TLIGHTUSERDATA;
    case 't': return lua_type(L, index) == LUA_TBOOLEAN && lua_toboolean(L, index);
    case 'f': return lua_type(L, index) == LUA_TBOOLEAN && !lua_toboolean(L, index);
    case 'i': {
        int64_t v;
        memcpy(&v, tape + 1, 8);
        return lua_isinteger(L, index) && (int64_t)lua_tointeger(L, index) == v;
    }
    case 'd': {
        if (lua_type(L, index) != LUA_TNUMBER || lua_isinteger(L, index)) return 0;
        double v = (double)lua_tonumber(L, index);
        return memcmp(&v, tape + 1, 8) == 0;   // bit for bit: -0.0 is not 0.0
    }
    case 's': {
        if (lua_type(L, index) != LUA_TSTRING) return 0;
        uint32_t n;
        memcpy(&n, tape + 1, 4);
        size_t len;
        const char *s = lua_tolstring(L, index, &len);
        return len == n && memcmp(s, tape + 5, n) == 0;
    }
    case 'a':
    case 'o': {
        if (lua_type(L, index) != LUA_TTABLE) return 0;
        uint32_t number;
        origin_node *node = origin_of(o, lua_topointer(L, index), &number);
        // Must be the table pushed for this very place: a table moved from elsewhere is a change.
        if (!node || node->at != tape) return 0;
        return table_unchanged(L, o, number, index, depth);
    }
    default: return 0;
    }
}

// Checks (once per node) whether a table still holds exactly what it was built with: the same
// marker, the same keys, the same values. Objects with many keys are not compared (a linear
// key search would cost more than it saves); they are simply read back.
static int table_unchanged(lua_State *L, struct pinrules_origins *o, uint32_t number, int index, int depth) {
    origin_node *node = &o->nodes[number];
    if (node->unchanged >= 0) return node->unchanged;
    node->unchanged = 0;
    if (depth > 64 || (node->kind == 'o' && node->member_count > 64)) return 0;
    index = lua_absindex(L, index);
    luaL_checkstack(L, 4, "nesting too deep");
    if (!lua_getmetatable(L, index)) return 0;
    lua_rawgetp(L, LUA_REGISTRYINDEX, node->kind == 'a' ? &pinrules_key_array_mt : &pinrules_key_object_mt);
    int marked = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (!marked) return 0;
    origin_member *members = o->members + node->first_member;
    uint32_t count = 0;
    int same = 1;
    if (node->kind == 'a') {
        if (lua_rawlen(L, index) != node->member_count) return 0;
        for (uint32_t i = 0; i < node->member_count && same; i++) {
            lua_rawgeti(L, index, (lua_Integer)i + 1);
            same = value_unchanged(L, o, lua_gettop(L), &members[i], depth + 1);
            lua_pop(L, 1);
        }
        if (!same) return 0;
    }
    lua_pushnil(L);
    while (lua_next(L, index)) {
        count++;
        if (same && node->kind == 'o') {
            const origin_member *found = NULL;
            if (lua_type(L, -2) == LUA_TSTRING) {
                size_t len;
                const char *key = lua_tolstring(L, -2, &len);
                found = find_member(members, node->member_count, key, len);
            }
            same = found && value_unchanged(L, o, lua_gettop(L), found, depth + 1);
        }
        lua_pop(L, 1);
    }
    node->unchanged = same && count == node->member_count;
    return node->unchanged;
}

static void write_table(tape_writer *w, int index) {
    lua_State *L = w->L;
    const void *self = lua_topointer(L, index);
    struct pinrules_origins *origins = w->ctx->origins;
    uint32_t origin_number = 0;
    origin_node *origin = origin_of(origins, self, &origin_number);
    if (origin && table_unchanged(L, origins, origin_number, index, 0)) {
        put_byte(w, '=');
        put_u32(w, origin_number);
        return;
    }
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
        if (origin && origin->kind == 'o') {
            put_byte(w, 'O');
            put_u32(w, origin_number);
        } else {
            put_byte(w, 'o');
        }
        put_u32(w, (uint32_t)count);
        lua_pushnil(L);
        int has_origin = origin && origin->kind == 'o' && origin->member_count <= 64;
        origin_member *members = has_origin ? origins->members + origin->first_member : NULL;
        while (lua_next(L, index)) {
            size_t n;
            const char *key = lua_tolstring(L, -2, &n);  // a string: no conversion in place
            // A member that kept its value is sent as a reference to the argument's member.
            uint32_t same = UINT32_MAX;
            const origin_member *found = has_origin ? find_member(members, origin->member_count, key, n) : NULL;
            if (found && value_unchanged(L, origins, lua_gettop(L), found, 0)) same = (uint32_t)(found - members);
            if (same != UINT32_MAX) {
                put_u32(w, UINT32_MAX);
                put_u32(w, same);
                lua_pop(L, 1);
                continue;
            }
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
