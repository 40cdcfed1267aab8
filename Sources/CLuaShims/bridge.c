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
// An argument tape starts with a u32 argument count. On argument tapes, the count of an 'a' or
// 'o' is followed by two more u32: the size in bytes of its members (so a container can be
// skipped without reading it) and how many containers it holds at any depth (so the numbers
// of its children are known without reading the ones before them).
//
// Results only:
//   '=' u32 node         a table that is, unchanged, argument container number `node`
//                        (containers are numbered in tape order from 0): the host reuses the
//                        value it sent instead of decoding a copy
//   'O' u32 node, then as 'o'   an object that came in as container `node` but changed: the host
//                        gives its keys the order they came in with. A member whose key length
//                        reads 0xFFFFFFFF is followed by a u32 index instead: that member of the
//                        argument object, key and value unchanged; 0xFFFFFFFE is followed by a
//                        u32 index and a value: that member's key with a new value
//   'P' u32 node, u32 count, u32 pieces, then the pieces   an object that came in as container
//                        `node` and was read or set member by member while it waited: its
//                        members in their original order, as pieces, then the keys it was given:
//                          0xFFFFFFFD u32 first, u32 members, u32 offset, u32 length, u32 containers
//                            a run of members (first ..< first + members) unchanged: `length`
//                            bytes of the argument tape from `offset` (counted after the argument
//                            count), holding `containers` containers; the host copies it whole
//                          0xFFFFFFFC u32 index, u32 key offset, then a value
//                            member `index` with a new value; its key (u32 length, bytes) is at
//                            `key offset` of the argument tape
//                          otherwise u32 length, key bytes, value: a new key
//
// Most hooks change little of the event they get, so most of it comes back as '=' markers.
#include "sandbox_internal.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------------------------------------
// Swift -> Lua: tables built on demand
//
// Building every value of a 1 KB event costs far more than a typical rule spends using it (most
// rules read a few fields). So the argument tape is copied into a Lua userdata (the document)
// and each container is made as an empty table that fills itself, one level deep, the first
// time anything looks inside: through its metatable (__index, __newindex, __pairs, __len) or
// through the sandbox's raw functions (next, rawget, rawset, rawlen, setmetatable, array,
// object, jsontype), which fill a table before they touch it. Once filled, a table is plain: it
// gets the ordinary array or object marker, and its unfilled children wait in turn. A table
// still unfilled when results are read back is, by construction, unchanged, except for the
// members a small object had read or assigned one by one (partial_index, partial_newindex),
// which it records.
//
// Every call gets its own document; the lazy metatable is the sandbox's, shared by all calls (made
// once: making one per call was a third of the call's fixed cost). Each waiting table holds its
// document under a light userdata key only C can make (key_doc_link; removed when it fills), so
// a table a rule keeps past its call still fills itself from its own document later. Containers
// are numbered in tape order, as the host numbers them; the document records, per number, the
// table made for it.

#define NOT_FOUND UINT32_MAX
#define TOMBSTONE (UINT32_MAX - 1)
#define HEADER_SIZE 13   // tag, count, span, descendants

enum { NODE_ABSENT = 0, NODE_LAZY = 1, NODE_FILLED = 2 };

typedef struct doc_node {
    const void *table;        // the table made for this container, or NULL
    const uint8_t *at;        // its tag on the document's tape
    uint32_t first_member;    // current call only: its members in ctx->origins
    uint32_t member_count;
    uint8_t state;
    int8_t unchanged;         // current call only: -1 not known yet, 0 changed, 1 unchanged
    // Objects of up to PARTIAL_MAX members: the members (bit per index) read once and not set
    // in the table (plain values, see partial_index), and those already set in the table while
    // it waits (see lazy_index).
    uint32_t peeked;
    uint64_t materialized;
    // Such an object was given a key it did not have while it waited (see lazy_newindex):
    // ADDED_LISTED when this call's list of added keys has them all, ADDED_UNLISTED otherwise.
    uint8_t added;
} doc_node;

// Objects up to this size are read member by member while they wait; larger ones are filled
// on the first read (finding a member walks the object's members on the tape).
#define PARTIAL_MAX 32

typedef struct lazy_doc {
    doc_node *nodes;
    uint32_t node_count;
    uint32_t *index;          // open addressing by table pointer; NOT_FOUND = empty
    uint32_t index_mask;
    const uint8_t *tape;
    const uint8_t *tape_end;
} lazy_doc;

typedef struct origin_member {
    const uint8_t *key;       // NULL for array elements
    uint32_t key_length;
    const uint8_t *value;     // the member's tag on the tape
    // The bytes of the Lua string pushed for the key. Lua interns short strings, so a key still
    // in the table is usually the very same pointer: the search compares pointers first. (The
    // string could have been collected and its address reused, so a hit is still verified.)
    const char *lua_key;
} origin_member;

// Strings the bridge pushes again and again (event names, currencies, the keys it reads back)
// are kept alive in registry slots, so pushing one is a registry read rather than Lua hashing
// the bytes and, when nothing else holds the string, allocating it (and collecting it later).
// Direct-mapped; a string takes a slot the second time it is seen (one-off values such as ids
// never do). Strings are values: which copy a rule gets cannot be observed.
#define STRING_CACHE_SLOTS 128
#define STRING_CACHE_MAX 32   // longer strings rarely repeat (ids are 36 bytes)
typedef struct string_cache {
    const char *bytes[STRING_CACHE_SLOTS];   // the cached Lua string's bytes (alive: the slot holds it)
    uint32_t length[STRING_CACHE_SLOTS];
    uint32_t seen[STRING_CACHE_SLOTS];       // hash of the last string that missed this slot
    int ref[STRING_CACHE_SLOTS];             // registry reference holding the string
} string_cache;

enum { ADDED_NONE = 0, ADDED_LISTED = 1, ADDED_UNLISTED = 2 };

// The keys this call's waiting objects were given (see partial_newindex), copied, so that
// reading them back need not traverse the table. A call lists up to ADDED_MAX keys of up to
// ADDED_KEY_MAX bytes; an object given more, or longer ones, is traversed.
#define ADDED_MAX 16
#define ADDED_KEY_MAX 32
typedef struct added_key {
    uint32_t node;
    uint32_t length;
    uint8_t bytes[ADDED_KEY_MAX];
} added_key;

// The members of the waiting object looked up last (see waiting_member), as far as lookups
// have walked them: a rule reads several fields of one object (e.messageId, e.event,
// e.properties), and each walk would skip again every member before the one it wants. It
// holds addresses in a document's tape, which never changes; a document's address is reused
// only by a new document, which only pinrules_push_tape makes, and that empties this.
#define LENGTH_BUCKETS 16
typedef struct member_cache {
    const lazy_doc *doc;      // NULL: empty
    uint32_t number;          // the object's container number
    uint32_t count;           // its members
    uint32_t walked;          // the first `walked` of them are recorded below
    uint32_t next_child;      // then: the number of the next container,
    const uint8_t *next;      // and where the next member is on the tape
    uint32_t made;            // a table likely looked up next: the last found, or the first argument
    // Bit i of by_length[k % LENGTH_BUCKETS]: member i's key is k bytes long (candidates for a
    // key at a glance, in member order).
    uint32_t by_length[LENGTH_BUCKETS];
    const uint8_t *key[PARTIAL_MAX];   // a member's key bytes (its length before, its value after)
    uint32_t child[PARTIAL_MAX];       // the number its value's first container has
} member_cache;

// The current call's document and the members of the tables filled during it.
struct pinrules_origins {
    lazy_doc *doc;
    const void *lazy_mt;      // the sandbox's lazy metatable (kept in the registry)
    // Registry references (integer keys: a third of the cost of reading a light userdata key)
    // to the lazy metatable, the anchor table and the array and object markers; the markers'
    // addresses, to recognise them without pushing them.
    int lazy_mt_ref, anchors_ref, array_mt_ref, object_mt_ref;
    const void *array_mt, *object_mt;
    lua_Integer anchored;     // tables made this call, kept alive in the anchor table
    lua_Integer left_anchored;   // entries the last call left in the anchor table
    origin_member *members;
    uint32_t member_count, member_capacity;
    added_key added[ADDED_MAX];
    uint32_t added_count;
    string_cache strings;
    member_cache looked_up;
};

// In each waiting table: its document. No rule can make this key (a light userdata), and a
// waiting table is filled, which removes it, before anything can traverse it.
static char key_doc_link;
// The anchor table (origins->anchors_ref) holds the current call's document and every table
// made for the call, kept alive until it ends, so no other table can take one's address while
// results are matched to arguments by address.

void pinrules_origins_free(pinrules_ctx *ctx) {
    struct pinrules_origins *o = ctx->origins;
    if (!o) return;
    free(o->members);
    free(o);
    ctx->origins = NULL;
}

void pinrules_origins_forget(pinrules_ctx *ctx) {
    if (ctx->origins) {
        if (ctx->origins->anchored > ctx->origins->left_anchored) ctx->origins->left_anchored = ctx->origins->anchored;
        ctx->origins->doc = NULL;
        ctx->origins->member_count = 0;
        ctx->origins->added_count = 0;
        ctx->origins->anchored = 0;
        ctx->origins->looked_up.doc = NULL;
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

static uint32_t hash_bytes(const uint8_t *s, size_t n) {
    uint64_t a = 0, b = 0, c = 0;
    if (n >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(&c, s + n / 2 - 4, 8);
    } else if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + n - 4, 4);
        a = x;
        b = y;
    } else {
        for (size_t i = 0; i < n; i++) a = a << 8 | s[i];
    }
    uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ULL) ^ (c * 0xC2B2AE3D27D4EB4FULL) ^ n) * 0xff51afd7ed558ccdULL;
    return (uint32_t)(h >> 32) | 1;   // never 0: `seen` starts at 0
}

// Whether a[0..<n] == b[0..<n], for 1 <= n <= STRING_CACHE_MAX, without a call.
static inline int same_short_bytes(const uint8_t *a, const uint8_t *b, size_t n) {
    uint64_t x, y, u, v;
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            if (x != y) return 0;
        }
        memcpy(&u, a + n - 8, 8);
        memcpy(&v, b + n - 8, 8);
        return u == v;
    }
    if (n >= 4) {
        uint32_t p, q, r, t;
        memcpy(&p, a, 4); memcpy(&q, b, 4);
        memcpy(&r, a + n - 4, 4); memcpy(&t, b + n - 4, 4);
        return p == q && r == t;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

// Pushes the string s[0..<n] (see string_cache); returns its bytes in Lua. Needs two free stack
// slots. May raise (memory).
static const char *push_string(lua_State *L, struct pinrules_origins *o, const uint8_t *s, size_t n) {
    if (n == 0 || n > STRING_CACHE_MAX) return lua_pushlstring(L, (const char *)s, n);
    string_cache *c = &o->strings;
    uint32_t h = hash_bytes(s, n);
    uint32_t slot = h & (STRING_CACHE_SLOTS - 1);
    if (c->length[slot] == n && same_short_bytes((const uint8_t *)c->bytes[slot], s, n)) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, c->ref[slot]);
        return c->bytes[slot];
    }
    const char *pushed = lua_pushlstring(L, (const char *)s, n);
    if (c->seen[slot] != h) {
        c->seen[slot] = h;
        return pushed;
    }
    // Seen twice: it takes the slot (a raw set of an existing registry entry: no allocation).
    lua_pushvalue(L, -1);
    lua_rawseti(L, LUA_REGISTRYINDEX, c->ref[slot]);
    c->bytes[slot] = pushed;
    c->length[slot] = (uint32_t)n;
    c->seen[slot] = 0;
    return pushed;
}

static uint32_t hash_pointer(const void *p, uint32_t mask) {
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (uint32_t)x & mask;
}

static uint32_t doc_find(const lazy_doc *doc, const void *table) {
    uint32_t slot = hash_pointer(table, doc->index_mask);
    for (uint32_t probes = 0; probes <= doc->index_mask; probes++, slot = (slot + 1) & doc->index_mask) {
        uint32_t number = doc->index[slot];
        if (number == NOT_FOUND) return NOT_FOUND;
        if (number != TOMBSTONE && doc->nodes[number].table == table) return number;
    }
    return NOT_FOUND;
}

static void doc_unindex(lazy_doc *doc, const void *table) {
    uint32_t slot = hash_pointer(table, doc->index_mask);
    for (uint32_t probes = 0; probes <= doc->index_mask; probes++, slot = (slot + 1) & doc->index_mask) {
        uint32_t number = doc->index[slot];
        if (number == NOT_FOUND) return;
        if (number != TOMBSTONE && doc->nodes[number].table == table) {
            doc->index[slot] = TOMBSTONE;
            doc->nodes[number].table = NULL;
            return;
        }
    }
}

// Records the table made for container `number`. A container is made once, unless filling its
// parent failed part way and is done again; and a dead table's address can come back for a new
// one. Either way the old entry goes first, so a pointer always finds the live table's number.
static void doc_register(lazy_doc *doc, uint32_t number, const void *table, const uint8_t *at, uint8_t state) {
    doc_node *node = &doc->nodes[number];
    if (node->table) doc_unindex(doc, node->table);
    doc_unindex(doc, table);
    uint32_t slot = hash_pointer(table, doc->index_mask);
    while (doc->index[slot] != NOT_FOUND && doc->index[slot] != TOMBSTONE) slot = (slot + 1) & doc->index_mask;
    doc->index[slot] = number;
    node->table = table;
    node->at = at;
    node->state = state;
    node->member_count = 0;
    node->unchanged = -1;
    node->peeked = 0;
    node->materialized = 0;
    node->added = 0;
}

// Pushes the array ('a') or object marker.
static void push_marker(lua_State *L, const struct pinrules_origins *o, uint8_t kind) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, kind == 'a' ? o->array_mt_ref : o->object_mt_ref);
}

static int is_lazy(lua_State *L, int index) {
    if (!lua_getmetatable(L, index)) return 0;
    struct pinrules_origins *o = pinrules_getctx(L)->origins;
    int lazy = o && lua_topointer(L, -1) == o->lazy_mt;
    lua_pop(L, 1);
    return lazy;
}

// The document and container number of the waiting table at `index`, or NULL. The current call's
// document is asked first, without touching the table: an address it knows is one of its own
// tables, which stay alive (anchored) for the whole call, so no other table can have it.
static lazy_doc *waiting_doc(lua_State *L, int index, uint32_t *number) {
    const void *table = lua_topointer(L, index);
    struct pinrules_origins *o = pinrules_getctx(L)->origins;
    if (o && o->doc) {
        *number = doc_find(o->doc, table);
        if (*number != NOT_FOUND) return o->doc;
    }
    lua_rawgetp(L, index, &key_doc_link);
    lazy_doc *doc = (lazy_doc *)lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!doc) return NULL;
    *number = doc_find(doc, table);
    return *number == NOT_FOUND ? NULL : doc;
}

static int read_u32_at(const uint8_t **p, const uint8_t *end, uint32_t *value) {
    if (end - *p < 4) return 0;
    memcpy(value, *p, 4);
    *p += 4;
    return 1;
}

typedef struct container_header {
    uint8_t kind;
    uint32_t count, span, descendants;
} container_header;

static int read_header(const uint8_t **p, const uint8_t *end, container_header *h) {
    if (*p >= end) return 0;
    h->kind = **p;
    (*p)++;
    return read_u32_at(p, end, &h->count) && read_u32_at(p, end, &h->span) &&
           read_u32_at(p, end, &h->descendants) && (size_t)(end - *p) >= h->span;
}

static void malformed(lua_State *L) {
    luaL_error(L, "PinRules host error: malformed argument tape");
}

// Moves *p past the value whose tag it points at; adds the containers it holds (itself
// included) to *containers. The tape was checked when the call started.
static void skip_tape_value(const uint8_t **p, uint32_t *containers) {
    const uint8_t *at = *p;
    uint32_t n;
    switch (*at) {
    case 'i': case 'd': *p += 9; return;
    case 's': memcpy(&n, at + 1, 4); *p += 5 + (size_t)n; return;
    case 'a': case 'o': {
        uint32_t span, descendants;
        memcpy(&span, at + 5, 4);
        memcpy(&descendants, at + 9, 4);
        *p += HEADER_SIZE + (size_t)span;
        *containers += 1 + descendants;
        return;
    }
    default: *p += 1; return;
    }
}

// Pushes the value whose tag is at *p and moves past it. A non-empty container becomes an
// unfilled table with the lazy metatable at stack index `mt`, linked to the document userdata at
// `link` (registered as container *number); an empty one is made complete at once (then `mt` and
// `link` are not used and may be 0). *number advances past the container and its descendants.
// `anchors` (a stack index, or 0 for an earlier call's document) keeps the tables made alive.
static void push_tape_value(lua_State *L, lazy_doc *doc, const uint8_t **p, uint32_t *number, int mt, int link, int anchors) {
    const uint8_t *end = doc->tape_end;
    if (*p >= end) malformed(L);
    const uint8_t *at = *p;
    switch (*at) {
    case 'n': (*p)++; lua_pushlightuserdata(L, &pinrules_key_null); return;   // null is this address
    case 't': (*p)++; lua_pushboolean(L, 1); return;
    case 'f': (*p)++; lua_pushboolean(L, 0); return;
    case 'i': {
        if (end - at < 9) malformed(L);
        int64_t v;
        memcpy(&v, at + 1, 8);
        *p += 9;
        lua_pushinteger(L, (lua_Integer)v);
        return;
    }
    case 'd': {
        if (end - at < 9) malformed(L);
        double v;
        memcpy(&v, at + 1, 8);
        *p += 9;
        lua_pushnumber(L, (lua_Number)v);
        return;
    }
    case 's': {
        uint32_t n;
        const uint8_t *q = at + 1;
        if (!read_u32_at(&q, end, &n) || (size_t)(end - q) < n) malformed(L);
        push_string(L, pinrules_getctx(L)->origins, q, n);
        *p = q + n;
        return;
    }
    case 'a':
    case 'o': {
        container_header h;
        const uint8_t *q = at;
        if (!read_header(&q, end, &h) || *number >= doc->node_count || h.descendants >= doc->node_count - *number)
            malformed(L);
        int n = h.count > 1u << 24 ? 1 << 24 : (int)h.count;
        if (h.count == 0) {
            lua_createtable(L, 0, 0);
            push_marker(L, pinrules_getctx(L)->origins, h.kind);
            lua_setmetatable(L, -2);
            doc_register(doc, *number, lua_topointer(L, -1), at, NODE_FILLED);
        } else {
            // One hash slot more for the link, so that neither it nor the members set while the
            // table waits make Lua rehash (reallocate) it.
            if (h.kind == 'a') lua_createtable(L, n, 1);
            else lua_createtable(L, 0, n + 1);
            lua_pushvalue(L, mt);
            lua_setmetatable(L, -2);
            lua_pushvalue(L, link);
            lua_rawsetp(L, -2, &key_doc_link);
            doc_register(doc, *number, lua_topointer(L, -1), at, NODE_LAZY);
        }
        if (anchors) {
            struct pinrules_origins *o = pinrules_getctx(L)->origins;
            lua_pushvalue(L, -1);
            lua_rawseti(L, anchors, ++o->anchored);
        }
        *number += 1 + h.descendants;
        *p = q + h.span;
        return;
    }
    default:
        malformed(L);
    }
}

// Fills the lazy table at `index` from its document: its members, with unfilled tables for the
// non-empty containers among them; then gives it its ordinary marker. Raises on memory.
static void lazy_fill(lua_State *L, int index) {
    index = lua_absindex(L, index);
    luaL_checkstack(L, 8, "nesting too deep");
    lua_getmetatable(L, index);
    int mt = lua_gettop(L);
    uint32_t number;
    lazy_doc *doc = waiting_doc(L, index, &number);
    if (!doc) luaL_error(L, "PinRules host error: an argument table lost its origin");
    doc_node *node = &doc->nodes[number];
    const uint8_t *p = node->at;
    container_header h;
    if (!read_header(&p, doc->tape_end, &h)) malformed(L);
    struct pinrules_origins *o = pinrules_getctx(L)->origins;
    int current = o && o->doc == doc;
    uint32_t first = 0;
    if (current) {
        first = o->member_count;
        o->members = grow_array(L, o->members, &o->member_capacity, first + h.count, sizeof(origin_member));
    }
    // Its children link the same document: this call's is the anchor table's first entry
    // (cheaper to read than the table's own link).
    int anchors = 0, link;
    if (current) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, o->anchors_ref);
        anchors = lua_gettop(L);
        lua_rawgeti(L, anchors, 1);
    } else {
        lua_rawgetp(L, index, &key_doc_link);
    }
    link = lua_gettop(L);
    uint32_t child = number + 1;
    int tracked = h.kind == 'o' && h.count <= 64;
    for (uint32_t i = 0; i < h.count; i++) {
        origin_member member = {NULL, 0, NULL, NULL};
        if (h.kind == 'o') {
            uint32_t k;
            if (!read_u32_at(&p, doc->tape_end, &k) || (size_t)(doc->tape_end - p) < k) malformed(L);
            member.key = p;
            member.key_length = k;
            p += k;
        }
        member.value = p;
        if (tracked && (node->materialized >> i & 1)) {
            // Set while the table waited: what the table holds for it now is what counts
            // (a rule may have changed or removed it).
            skip_tape_value(&p, &child);
            if (current) o->members[first + i] = member;
            continue;
        }
        if (h.kind == 'o') member.lua_key = push_string(L, o, member.key, member.key_length);
        push_tape_value(L, doc, &p, &child, mt, link, anchors);
        if (h.kind == 'o') lua_rawset(L, index);
        else lua_rawseti(L, index, (lua_Integer)i + 1);
        // Recorded as it goes: if filling fails part way, a later fill skips what is set.
        if (tracked) node->materialized |= (uint64_t)1 << i;
        if (current) o->members[first + i] = member;
    }
    node->state = NODE_FILLED;
    if (current) {
        node->first_member = first;
        node->member_count = h.count;
        o->member_count = first + h.count;
    }
    lua_pushnil(L);
    lua_rawsetp(L, index, &key_doc_link);   // plain now: nothing may find the link in a traversal
    push_marker(L, o, h.kind);
    lua_setmetatable(L, index);
    lua_settop(L, mt - 1);
}

int pinrules_fill_if_lazy(lua_State *L, int index) {
    if (lua_type(L, index) != LUA_TTABLE || !is_lazy(L, index)) return 0;
    lazy_fill(L, index);
    return 1;
}

// A waiting object read or changed member by member (see partial_index, partial_newindex):
// for a string key (stack index 2) of the waiting object of up to PARTIAL_MAX members at
// index 1, finds the member with that key. Returns the object's document, or NULL when the
// general path (filling the whole table) applies; sets *number to the object's container
// number, *member to the member's index (NOT_FOUND: no such member), and *value and *child to
// where its value is on the tape and the number its first container has.
static lazy_doc *waiting_member(lua_State *L, uint32_t *number, uint32_t *member, const uint8_t **value, uint32_t *child) {
    if (lua_type(L, 2) != LUA_TSTRING) return NULL;
    struct pinrules_origins *o = pinrules_getctx(L)->origins;
    member_cache *c = &o->looked_up;
    // This call's tables stay alive (anchored), so the node holding this address is the one
    // waiting_doc would find in the call's index: checked for the likely ones without probing.
    const void *table = lua_topointer(L, 1);
    lazy_doc *doc = o->doc;
    if (doc && table && c->doc == doc && doc->nodes[c->number].table == table) {
        *number = c->number;
    } else {
        if (doc && table && c->made < doc->node_count && doc->nodes[c->made].table == table) {
            *number = c->made;
        } else {
            doc = waiting_doc(L, 1, number);
            if (!doc) return NULL;
        }
        if (c->doc != doc || c->number != *number) {
            const uint8_t *p = doc->nodes[*number].at;
            container_header h;
            if (!read_header(&p, doc->tape_end, &h)) malformed(L);
            if (h.kind != 'o' || h.count > PARTIAL_MAX) return NULL;
            c->doc = doc;
            c->number = *number;
            c->count = h.count;
            c->walked = 0;
            c->next_child = *number + 1;
            c->next = p;
            memset(c->by_length, 0, sizeof c->by_length);
        }
    }
    size_t n;
    const char *key = lua_tolstring(L, 2, &n);
    *member = NOT_FOUND;
    // The members walked before with a key of about that length, in member order, so the
    // first with the key is found, as a walk would find it.
    for (uint32_t candidates = c->by_length[n % LENGTH_BUCKETS]; candidates; candidates &= candidates - 1) {
        uint32_t i = (uint32_t)__builtin_ctz(candidates), k;
        memcpy(&k, c->key[i] - 4, 4);
        if (k == n && same_short_bytes(c->key[i], (const uint8_t *)key, n)) {
            *member = i;
            *value = c->key[i] + n;
            *child = c->child[i];
            if (**value == 'o' || **value == 'a') c->made = *child;
            return doc;
        }
    }
    // Then on from where the last walk stopped, recording as it goes.
    const uint8_t *p = c->next;
    uint32_t next_child = c->next_child;
    uint32_t i = c->walked;
    for (; i < c->count; i++) {
        uint32_t k;
        memcpy(&k, p, 4);
        const uint8_t *member_key = p + 4;
        p += 4 + (size_t)k;
        c->key[i] = member_key;
        c->child[i] = next_child;
        c->by_length[k % LENGTH_BUCKETS] |= (uint32_t)1 << i;
        int found = k == n && same_short_bytes(member_key, (const uint8_t *)key, n);
        skip_tape_value(&p, &next_child);
        if (found) {
            *member = i;
            *value = member_key + k;
            *child = c->child[i];
            if (**value == 'o' || **value == 'a') c->made = *child;
            i++;
            break;
        }
    }
    c->walked = i;
    c->next = p;
    c->next_child = next_child;
    if (*member == NOT_FOUND) *child = next_child;
    return doc;
}

// Reading a string key of a waiting object of up to PARTIAL_MAX members sets that member
// alone (a rule that reads three fields of an event builds three values, not thirty). The
// table keeps waiting; `materialized` records what it holds, so a member the rule removes is
// not set again, and a fill later leaves those members as the rule left them. A plain value
// (not a table) is only returned the first time: most rules read a field once, and a value
// the table does not hold costs nothing to read back (it is unchanged). No rule can tell:
// anything that could see the table's contents fills it first. Returns 0 when the general path
// (filling the whole table) applies.
static int partial_index(lua_State *L) {
    uint32_t number, member, child;
    const uint8_t *p = NULL;
    lazy_doc *doc = waiting_member(L, &number, &member, &p, &child);
    if (!doc) return 0;
    if (member == NOT_FOUND || (doc->nodes[number].materialized >> member & 1)) {
        lua_pushnil(L);   // not a member, or set before and then removed by the rule
        return 1;
    }
    // No stack check: Lua calls lazy_index (its only caller) with LUA_MINSTACK (20) free slots,
    // and this uses at most seven.
    doc_node *node = &doc->nodes[number];
    if (*p != 'a' && *p != 'o' && !(node->peeked >> member & 1)) {
        node->peeked |= (uint32_t)1 << member;
        push_tape_value(L, doc, &p, &child, 0, 0, 0);
        return 1;
    }
    struct pinrules_origins *o = pinrules_getctx(L)->origins;
    int anchors = 0, mt = 0, link = 0;
    if ((*p == 'a' || *p == 'o') && doc->tape_end - p >= HEADER_SIZE && (p[1] | p[2] | p[3] | p[4])) {
        // A waiting table: it gets the same metatable and document as this one.
        if (o->doc == doc) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, o->anchors_ref);
            anchors = lua_gettop(L);
        }
        lua_getmetatable(L, 1);
        mt = lua_gettop(L);
        if (anchors) lua_rawgeti(L, anchors, 1);   // this call's document (see lazy_fill)
        else lua_rawgetp(L, 1, &key_doc_link);
        link = mt + 1;
    }
    push_tape_value(L, doc, &p, &child, mt, link, anchors);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);
    node->materialized |= (uint64_t)1 << member;
    return 1;
}

static int lazy_index(lua_State *L) {
    if (partial_index(L)) return 1;
    lazy_fill(L, 1);
    lua_settop(L, 2);
    lua_rawget(L, 1);
    return 1;
}

// Assigning a string key of a waiting object of up to PARTIAL_MAX members sets it alone, as
// reading does (a rule that adds a property to `e.properties` need not build the others): a
// member of the object is recorded as set (the value may be nil: removed), any other key as
// added. The table keeps waiting; a fill later sets only the members not set, and reading back
// sends the added keys as new ones. Returns 0 when the general path (filling) applies.
static int partial_newindex(lua_State *L) {
    uint32_t number, member, child;
    const uint8_t *value = NULL;
    lazy_doc *doc = waiting_member(L, &number, &member, &value, &child);
    if (!doc) return 0;
    doc_node *node = &doc->nodes[number];
    if (member == NOT_FOUND && node->added != ADDED_UNLISTED) {
        // Listed (for this call's objects, while there is room), so reading back need not
        // traverse the table. A key given twice (nil first) is listed twice.
        struct pinrules_origins *o = pinrules_getctx(L)->origins;
        size_t n;
        const char *key = lua_tolstring(L, 2, &n);
        if (o->doc == doc && o->added_count < ADDED_MAX && n <= ADDED_KEY_MAX) {
            added_key *entry = &o->added[o->added_count++];
            entry->node = number;
            entry->length = (uint32_t)n;
            memcpy(entry->bytes, key, n);
            node->added = ADDED_LISTED;
        } else {
            node->added = ADDED_UNLISTED;
        }
    }
    lua_settop(L, 3);
    lua_rawset(L, 1);
    if (member != NOT_FOUND) node->materialized |= (uint64_t)1 << member;
    return 1;
}

static int lazy_newindex(lua_State *L) {
    if (partial_newindex(L)) return 0;
    lazy_fill(L, 1);
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 0;
}

static int lazy_len(lua_State *L) {
    lazy_fill(L, 1);
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, 1));
    return 1;
}

// next, as the sandbox offers it: a lazy table is filled before it is traversed.
int pinrules_next(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    pinrules_fill_if_lazy(L, 1);
    lua_settop(L, 2);
    if (lua_next(L, 1)) return 2;
    lua_pushnil(L);
    return 1;
}

static int lazy_pairs(lua_State *L) {
    lazy_fill(L, 1);
    lua_pushcfunction(L, pinrules_next);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

void pinrules_bridge_setup(lua_State *L) {
    pinrules_ctx *ctx = pinrules_getctx(L);
    if (!ctx->origins) {
        ctx->origins = calloc(1, sizeof(struct pinrules_origins));
        if (!ctx->origins) luaL_error(L, "not enough memory");
    }
    struct pinrules_origins *o = ctx->origins;
    static const luaL_Reg lazy_methods[] = {
        {"__index", lazy_index}, {"__newindex", lazy_newindex}, {"__pairs", lazy_pairs}, {"__len", lazy_len},
        {NULL, NULL},
    };
    lua_createtable(L, 0, 5);                       // the lazy metatable, shared by every call
    int mt = lua_gettop(L);
    luaL_setfuncs(L, lazy_methods, 0);
    lua_pushboolean(L, 0);
    lua_setfield(L, mt, "__metatable");
    o->lazy_mt = lua_topointer(L, mt);
    o->lazy_mt_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_createtable(L, 64, 0);
    o->anchors_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &pinrules_key_array_mt);   // made before this
    o->array_mt = lua_topointer(L, -1);
    o->array_mt_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &pinrules_key_object_mt);
    o->object_mt = lua_topointer(L, -1);
    o->object_mt_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    for (int i = 0; i < STRING_CACHE_SLOTS; i++) {
        lua_pushboolean(L, 0);   // an empty slot (luaL_ref makes no reference for nil)
        o->strings.ref[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
}

// Every argument container is numbered, so the document needs the total first.
static int count_containers(const uint8_t *p, const uint8_t *end, uint32_t argc, uint32_t *total) {
    uint64_t sum = 0;
    for (uint32_t i = 0; i < argc; i++) {
        if (p >= end) return 0;
        switch (*p) {
        case 'n': case 't': case 'f': p++; break;
        case 'i': case 'd': if (end - p < 9) return 0; p += 9; break;
        case 's': case 'r': {
            uint32_t n;
            uint8_t tag = *p++;
            if (!read_u32_at(&p, end, &n)) return 0;
            if (tag == 's') {
                if ((size_t)(end - p) < n) return 0;
                p += n;
            }
            break;
        }
        case 'a': case 'o': {
            container_header h;
            if (!read_header(&p, end, &h)) return 0;
            sum += 1 + (uint64_t)h.descendants;
            p += h.span;
            break;
        }
        default: return 0;
        }
    }
    if (p != end || sum > (1u << 26)) return 0;
    *total = (uint32_t)sum;
    return 1;
}

int pinrules_push_tape(lua_State *L, const uint8_t *tape, size_t length) {
    pinrules_ctx *ctx = pinrules_getctx(L);
    const uint8_t *p = tape, *end = tape + length;
    uint32_t argc, nodes;
    if (!read_u32_at(&p, end, &argc) || !count_containers(p, end, argc, &nodes)) return -1;
    if (argc > 100000) return -1;
    luaL_checkstack(L, (int)argc + 8, "too many arguments");
    struct pinrules_origins *o = ctx->origins;
    if (!o) luaL_error(L, "PinRules host error: the bridge is not set up");
    o->doc = NULL;
    o->member_count = 0;
    o->added_count = 0;
    o->anchored = 0;
    o->looked_up.doc = NULL;   // the document it records may be gone, its address reused now
    o->looked_up.made = 0;

    uint32_t capacity = 16;
    while (capacity < nodes * 2) capacity *= 2;
    size_t body = length - (size_t)(p - tape);
    size_t size = sizeof(lazy_doc) + (size_t)nodes * sizeof(doc_node) + (size_t)capacity * sizeof(uint32_t) + body;
    lazy_doc *doc = (lazy_doc *)lua_newuserdatauv(L, size, 0);
    doc->nodes = (doc_node *)(doc + 1);
    doc->node_count = nodes;
    doc->index = (uint32_t *)(doc->nodes + nodes);
    doc->index_mask = capacity - 1;
    uint8_t *copy = (uint8_t *)(doc->index + capacity);
    memcpy(copy, p, body);
    doc->tape = copy;
    doc->tape_end = copy + body;
    memset(doc->nodes, 0, (size_t)nodes * sizeof(doc_node));
    memset(doc->index, 0xFF, (size_t)capacity * sizeof(uint32_t));

    int link = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, o->lazy_mt_ref);
    int mt = link + 1;
    // The anchor table is the sandbox's, emptied of the last call's tables (which may go now):
    // making one per call cost more than emptying a handful of entries.
    lua_rawgeti(L, LUA_REGISTRYINDEX, o->anchors_ref);
    if (o->left_anchored > 1024) {
        lua_pop(L, 1);
        lua_createtable(L, (int)(nodes < 64 ? nodes : 64), 0);
        lua_pushvalue(L, -1);
        lua_rawseti(L, LUA_REGISTRYINDEX, o->anchors_ref);
    } else {
        for (lua_Integer i = 2; i <= o->left_anchored; i++) {
            lua_pushnil(L);
            lua_rawseti(L, -2, i);
        }
    }
    o->left_anchored = 0;
    // The document stays alive for the whole call even if no table links it (the read-back
    // uses it); it takes the place of the last call's.
    lua_pushvalue(L, link);
    lua_rawseti(L, -2, 1);
    o->anchored = 1;
    o->doc = doc;
    int anchors = lua_gettop(L);

    const uint8_t *q = doc->tape;
    uint32_t number = 0;
    for (uint32_t i = 0; i < argc; i++) {
        if (*q == 'r') {
            uint32_t ref;
            q++;
            if (!read_u32_at(&q, doc->tape_end, &ref)) return -1;
            lua_rawgeti(L, LUA_REGISTRYINDEX, (lua_Integer)(int32_t)ref);
        } else {
            push_tape_value(L, doc, &q, &number, mt, link, anchors);
        }
    }
    // The document, the metatable and the anchor table go; the arguments stay.
    lua_rotate(L, link, -3);
    lua_pop(L, 3);
    return (int)argc;
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

// Room is checked inline; `grow` (out of line) runs only when it is short.
static inline void put_byte(tape_writer *w, uint8_t b) {
    pinrules_ctx *ctx = w->ctx;
    if (ctx->out_len + 1 > ctx->out_cap || ctx->out_len + 1 > w->max_bytes) grow(w, 1);
    ctx->out[ctx->out_len++] = b;
}

static inline void put_bytes(tape_writer *w, const void *p, size_t n) {
    pinrules_ctx *ctx = w->ctx;
    if (ctx->out_len + n > ctx->out_cap || ctx->out_len + n > w->max_bytes) grow(w, n);
    memcpy(ctx->out + ctx->out_len, p, n);
    ctx->out_len += n;
}

static void put_u32(tape_writer *w, uint32_t v) { put_bytes(w, &v, 4); }

// A member of an argument object that kept its key and value: 0xFFFFFFFF, then its index.
static inline void put_kept(tape_writer *w, uint32_t index) {
    uint32_t marker[2] = {UINT32_MAX, index};
    put_bytes(w, marker, 8);
}

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
    if (!valid_utf8((const unsigned char *)s, n)) {
        w->ctx->out_invalid_utf8++;
        note_invalid_utf8(w);
    }
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

// The current call's container made as the table at `index`, if any.
static doc_node *origin_of(lua_State *L, struct pinrules_origins *o, int index, uint32_t *number) {
    if (!o || !o->doc) return NULL;
    uint32_t found = doc_find(o->doc, lua_topointer(L, index));
    if (found == NOT_FOUND) return NULL;
    *number = found;
    return &o->doc->nodes[found];
}

// Members of a large argument object by key: open addressing over member numbers.
typedef struct member_index {
    uint32_t *slots;          // UINT32_MAX = empty
    uint32_t mask;
} member_index;

static uint32_t hash_key(const uint8_t *key, size_t n) {
    uint32_t h = 2166136261u;     // FNV-1a
    for (size_t i = 0; i < n; i++) h = (h ^ key[i]) * 16777619u;
    return h;
}

// Builds the index in a userdata left on the stack (the collector frees it even if a raise
// interrupts the read-back).
static member_index index_members(lua_State *L, const origin_member *members, uint32_t count) {
    uint32_t capacity = 128;
    while (capacity < count * 2) capacity *= 2;
    member_index index = {(uint32_t *)lua_newuserdatauv(L, (size_t)capacity * sizeof(uint32_t), 0), capacity - 1};
    memset(index.slots, 0xFF, (size_t)capacity * sizeof(uint32_t));
    for (uint32_t i = 0; i < count; i++) {
        uint32_t slot = hash_key(members[i].key, members[i].key_length) & index.mask;
        while (index.slots[slot] != UINT32_MAX) slot = (slot + 1) & index.mask;
        index.slots[slot] = i;
    }
    return index;
}

static const origin_member *find_indexed_member(const member_index *index, const origin_member *members, const char *key, size_t n) {
    uint32_t slot = hash_key((const uint8_t *)key, n) & index->mask;
    for (; index->slots[slot] != UINT32_MAX; slot = (slot + 1) & index->mask) {
        const origin_member *m = &members[index->slots[slot]];
        if (m->key_length == n && memcmp(m->key, key, n) == 0) return m;
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
        doc_node *node = origin_of(L, o, index, &number);
        // Must be the table made for this very place: a table moved from elsewhere is a change.
        if (!node || node->at != tape) return 0;
        return table_unchanged(L, o, number, index, depth);
    }
    default: return 0;
    }
}

// Reads the object member at *p on a tape (key length, key, value) into *member and moves
// past it.
static void read_member(const uint8_t **p, origin_member *member) {
    uint32_t ignored = 0;
    memcpy(&member->key_length, *p, 4);
    member->key = *p + 4;
    *p += 4 + (size_t)member->key_length;
    member->value = *p;
    skip_tape_value(p, &ignored);
}

// The members a waiting object set (see partial_index) as they came: present, same values.
static int materialized_unchanged(lua_State *L, struct pinrules_origins *o, doc_node *node, int index, int depth) {
    const uint8_t *p = node->at + 1;
    uint32_t count;
    memcpy(&count, p, 4);
    p = node->at + HEADER_SIZE;
    for (uint32_t i = 0; i < count; i++) {
        origin_member member = {NULL, 0, NULL, NULL};
        read_member(&p, &member);
        if (!(node->materialized >> i & 1)) continue;
        push_string(L, o, member.key, member.key_length);
        lua_rawget(L, index);
        int same = !lua_isnil(L, -1) && value_unchanged(L, o, lua_gettop(L), &member, depth + 1);
        lua_pop(L, 1);
        if (!same) return 0;
    }
    return 1;
}

// Checks (once per node) whether a table still holds exactly what it was made with. A table
// never filled is unchanged (it still carries the lazy metatable; and no other table
// can have its address during the call, see the anchor table). A filled one is compared: the same marker, keys and values. Objects
// with many keys are not compared (a linear key search would cost more than it saves); they
// are simply read back.
static int table_unchanged(lua_State *L, struct pinrules_origins *o, uint32_t number, int index, int depth) {
    doc_node *node = &o->doc->nodes[number];
    if (node->unchanged >= 0) return node->unchanged;
    node->unchanged = 0;
    index = lua_absindex(L, index);
    luaL_checkstack(L, 4, "nesting too deep");
    uint8_t kind = node->at[0];
    if (node->state == NODE_LAZY) {
        if (!lua_getmetatable(L, index)) return 0;
        node->unchanged = lua_topointer(L, -1) == o->lazy_mt;
        lua_pop(L, 1);
        if (node->unchanged && node->added) node->unchanged = 0;
        if (node->unchanged && node->materialized) node->unchanged = materialized_unchanged(L, o, node, index, depth);
        return node->unchanged;
    }
    if (depth > 64 || (kind == 'o' && node->member_count > 64)) return 0;
    if (!lua_getmetatable(L, index)) return 0;
    int marked = lua_topointer(L, -1) == (kind == 'a' ? o->array_mt : o->object_mt);
    lua_pop(L, 1);
    if (!marked) return 0;
    origin_member *members = o->members + node->first_member;
    uint32_t count = 0;
    int same = 1;
    if (kind == 'a') {
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
        if (same && kind == 'o') {
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

// Before writing a table: a table inside itself, or nesting past the limit, is a bad return.
static void check_entering(tape_writer *w, const void *self) {
    for (int i = 0; i < w->depth; i++) {
        if (w->ancestors[i] == self) fail(w, "a table contains itself (a cycle)");
    }
    if (w->depth >= w->max_depth) {
        char reason[64];
        snprintf(reason, sizeof reason, "nesting deeper than %d", w->max_depth);
        fail(w, reason);
    }
    luaL_checkstack(w->L, 4, "nesting too deep");
}

// Whether what was written for a member's value since `value_start` is '=' of the very
// container made for it: then the member is unchanged and goes as kept.
static int came_back_as_made(tape_writer *w, size_t value_start, const uint8_t *value) {
    pinrules_ctx *ctx = w->ctx;
    if (ctx->out_len != value_start + 5 || ctx->out[value_start] != '=') return 0;
    uint32_t number;
    memcpy(&number, ctx->out + value_start + 1, 4);
    lazy_doc *doc = ctx->origins->doc;
    return number < doc->node_count && doc->nodes[number].at == value;
}

// A member of an argument object, with the Lua value at `value` (its path already set):
// by index alone when it kept its value, else by index with the value written. Returns 1 when
// it was kept.
static int write_origin_member(tape_writer *w, int value, const origin_member *member, uint32_t number) {
    pinrules_ctx *ctx = w->ctx;
    int container = member->value[0] == 'a' || member->value[0] == 'o';
    if (!container && value_unchanged(w->L, ctx->origins, value, member, 0)) {
        put_kept(w, number);
        return 1;
    }
    size_t member_start = ctx->out_len;
    put_u32(w, UINT32_MAX - 1);
    put_u32(w, number);
    w->depth++;
    write_value(w, value);
    w->depth--;
    // Came back as '=' of the very container made for this member: unchanged after all.
    if (container && came_back_as_made(w, member_start + 8, member->value)) {
        ctx->out_len = member_start;
        put_kept(w, number);
        return 1;
    }
    return 0;
}

// An object with the object marker, read in one pass: members of the argument object it came
// from (if any) go by index, and when every one of them comes back unchanged (and nothing was
// added or removed) the whole object becomes '=' instead, by rewinding what was written.
static void write_marked_object(tape_writer *w, int index, const void *self, doc_node *origin, uint32_t origin_number) {
    lua_State *L = w->L;
    pinrules_ctx *ctx = w->ctx;
    struct pinrules_origins *origins = ctx->origins;
    size_t start = ctx->out_len;
    if (origin) {
        put_byte(w, 'O');
        put_u32(w, origin_number);
    } else {
        put_byte(w, 'o');
    }
    size_t count_at = ctx->out_len;
    put_u32(w, 0);
    origin_member *members = origin ? origins->members + origin->first_member : NULL;
    member_index keys = {NULL, 0};
    if (origin && origin->member_count > 64) {
        // Linear search per key would make large objects quadratic: index them by key.
        keys = index_members(L, members, origin->member_count);   // a userdata, on the stack
    }
    w->ancestors[w->depth] = self;
    uint32_t count = 0, kept = 0;
    lua_pushnil(L);
    while (lua_next(L, index)) {
        if (lua_type(L, -2) != LUA_TSTRING) fail(w, "an object has a non-string key");
        if (count == UINT32_MAX) fail(w, "a table is too large");
        count++;
        size_t n;
        const char *key = lua_tolstring(L, -2, &n);
        int value = lua_gettop(L);
        const origin_member *found = NULL;
        if (keys.slots) found = find_indexed_member(&keys, members, key, n);
        else if (origin) found = find_member(members, origin->member_count, key, n);
        w->path[w->depth].key = key;
        w->path[w->depth].key_length = n;
        if (found) {
            kept += write_origin_member(w, value, found, (uint32_t)(found - members));
        } else {
            w->depth++;
            put_string(w, key, n, 0);
            write_value(w, value);
            w->depth--;
        }
        lua_pop(L, 1);
    }
    if (keys.slots) lua_pop(L, 1);
    if (origin && kept == count && count == origin->member_count) {
        ctx->out_len = start;
        put_byte(w, '=');
        put_u32(w, origin_number);
        return;
    }
    memcpy(ctx->out + count_at, &count, 4);
}

// Whether the table at `index`, one of this call's, still has the lazy metatable.
static int is_current_lazy(lua_State *L, int index, struct pinrules_origins *o) {
    if (!lua_getmetatable(L, index)) return 0;
    int current = lua_topointer(L, -1) == o->lazy_mt;
    lua_pop(L, 1);
    return current;
}

// Whether the object at `node` (on the tape) has the member `key`.
static int has_member(const doc_node *node, const char *key, size_t n) {
    uint32_t count;
    memcpy(&count, node->at + 1, 4);
    const uint8_t *p = node->at + HEADER_SIZE;
    for (uint32_t i = 0; i < count; i++) {
        origin_member member = {NULL, 0, NULL, NULL};
        read_member(&p, &member);
        if (member.key_length == n && memcmp(member.key, key, n) == 0) return 1;
    }
    return 0;
}

// Whether an earlier entry of the list of added keys names the same object and key.
static int listed_before(const struct pinrules_origins *o, uint32_t a) {
    const added_key *entry = &o->added[a];
    for (uint32_t b = 0; b < a; b++) {
        const added_key *other = &o->added[b];
        if (other->node == entry->node && other->length == entry->length &&
            memcmp(other->bytes, entry->bytes, entry->length) == 0)
            return 1;
    }
    return 0;
}

// The pieces of a 'P' object (see the top of this file).
#define PIECE_KEPT_RUN (UINT32_MAX - 2)
#define PIECE_CHANGED (UINT32_MAX - 3)

// The run of kept members a 'P' object is writing: it grows while the next kept member
// follows it, so that the host copies most of an event in a piece or two. Its piece in the
// output is written when it begins and brought up to date when it ends (flush_run).
typedef struct kept_run {
    size_t at;             // where its piece is in the output; SIZE_MAX: none yet
    uint32_t fields[6];    // marker, first, members, offset, length, containers
} kept_run;

static void flush_run(tape_writer *w, const kept_run *run) {
    if (run->at != SIZE_MAX) memcpy(w->ctx->out + run->at, run->fields, sizeof run->fields);
}

// Members first ..< first + members of the waiting object being written, unchanged: their
// bytes on the document's tape run from `start` to `end` and hold `containers` containers.
// Returns 1 when they began a new piece (else they lengthened the last one).
static int keep_members(tape_writer *w, kept_run *run, uint32_t first, uint32_t members, const uint8_t *start,
                        const uint8_t *end, uint32_t containers) {
    pinrules_ctx *ctx = w->ctx;
    if (run->at != SIZE_MAX && run->at + sizeof run->fields == ctx->out_len && run->fields[1] + run->fields[2] == first) {
        run->fields[2] += members;
        run->fields[4] += (uint32_t)(end - start);
        run->fields[5] += containers;
        return 0;
    }
    flush_run(w, run);
    run->at = ctx->out_len;
    run->fields[0] = PIECE_KEPT_RUN;
    run->fields[1] = first;
    run->fields[2] = members;
    run->fields[3] = (uint32_t)(start - ctx->origins->doc->tape);
    run->fields[4] = (uint32_t)(end - start);
    run->fields[5] = containers;
    put_bytes(w, run->fields, sizeof run->fields);
    return 1;
}

// A member of a waiting object that the rule read or set, with the Lua value at `value` (its
// path already set): returns 1 when it kept its value (nothing written: the caller keeps it),
// else writes it as a changed piece.
static int write_changed_piece(tape_writer *w, int value, const origin_member *member, uint32_t index) {
    pinrules_ctx *ctx = w->ctx;
    int container = member->value[0] == 'a' || member->value[0] == 'o';
    if (!container && value_unchanged(w->L, ctx->origins, value, member, 0)) return 1;
    size_t piece_start = ctx->out_len;
    uint32_t piece[3] = {PIECE_CHANGED, index, (uint32_t)(member->key - 4 - ctx->origins->doc->tape)};
    put_bytes(w, piece, sizeof piece);
    w->depth++;
    write_value(w, value);
    w->depth--;
    // Came back as '=' of the very container made for this member: unchanged after all.
    if (container && came_back_as_made(w, piece_start + sizeof piece, member->value)) {
        ctx->out_len = piece_start;
        return 1;
    }
    return 0;
}

// A key a waiting object was given, with its value on top of the stack: written by name, as a
// new member (one more in *count).
static void write_added_member(tape_writer *w, const char *key, size_t n, uint32_t *count) {
    if (*count == UINT32_MAX) fail(w, "a table is too large");
    (*count)++;
    w->path[w->depth].key = key;
    w->path[w->depth].key_length = n;
    w->depth++;
    put_string(w, key, n, 0);
    write_value(w, lua_gettop(w->L));
    w->depth--;
}

// A waiting object of this call's with members it set (see partial_index, partial_newindex),
// as 'P': the others are unchanged by construction and go in runs, the set ones as they are now
// (a removed one is left out), then the keys added while it waited; when nothing changed, the
// whole object becomes '=' instead.
static void write_partial_object(tape_writer *w, int index, const void *self, doc_node *origin, uint32_t origin_number) {
    lua_State *L = w->L;
    pinrules_ctx *ctx = w->ctx;
    struct pinrules_origins *origins = ctx->origins;
    check_entering(w, self);
    w->ancestors[w->depth] = self;
    size_t start = ctx->out_len;
    put_byte(w, 'P');
    put_u32(w, origin_number);
    size_t count_at = ctx->out_len;
    put_u32(w, 0);
    put_u32(w, 0);
    container_header h;
    const uint8_t *p = origin->at;
    if (!read_header(&p, origins->doc->tape_end, &h)) malformed(L);
    const uint8_t *object_end = p + h.span;
    uint32_t members = h.count;
    uint32_t child = origin_number + 1;   // the number of the next container on the tape
    uint32_t count = 0, kept = 0, pieces = 0;
    kept_run run = {SIZE_MAX, {0}};
    uint32_t i = 0;
    while (i < members) {
        uint64_t set = i < 64 ? origin->materialized >> i : 0;
        if (!(set & 1)) {
            // Members the rule did not set, up to the next it did (or the end, which the header
            // gives without walking), in one run.
            uint32_t first = i, first_child = child;
            const uint8_t *run_start = p;
            if (set == 0) {
                p = object_end;
                child = origin_number + 1 + h.descendants;
                i = members;
            } else {
                for (uint32_t stop = i + (uint32_t)__builtin_ctzll(set); i < stop; i++) {
                    uint32_t k;
                    memcpy(&k, p, 4);
                    p += 4 + (size_t)k;
                    skip_tape_value(&p, &child);
                }
            }
            pieces += keep_members(w, &run, first, i - first, run_start, p, child - first_child);
            count += i - first;
            kept += i - first;
            continue;
        }
        origin_member member = {NULL, 0, NULL, NULL};
        const uint8_t *member_start = p;
        uint32_t member_child = child;
        memcpy(&member.key_length, p, 4);
        member.key = p + 4;
        p += 4 + (size_t)member.key_length;
        member.value = p;
        skip_tape_value(&p, &child);
        push_string(L, origins, member.key, member.key_length);
        lua_rawget(L, index);
        int value = lua_gettop(L);
        if (lua_isnil(L, value)) {
            lua_pop(L, 1);
            i++;
            continue;
        }
        count++;
        w->path[w->depth].key = (const char *)member.key;
        w->path[w->depth].key_length = member.key_length;
        if (write_changed_piece(w, value, &member, i)) {
            pieces += keep_members(w, &run, i, 1, member_start, p, child - member_child);
            kept++;
        } else {
            pieces++;
        }
        lua_pop(L, 1);
        i++;
    }
    flush_run(w, &run);
    if (origin->added == ADDED_LISTED) {
        // The keys it was given, from the list: those still set, each once.
        for (uint32_t a = 0; a < origins->added_count; a++) {
            const added_key *entry = &origins->added[a];
            if (entry->node != origin_number || listed_before(origins, a)) continue;
            const char *key = push_string(L, origins, entry->bytes, entry->length);
            lua_rawget(L, index);
            if (lua_isnil(L, -1)) {
                lua_pop(L, 1);
                continue;
            }
            write_added_member(w, key, entry->length, &count);
            pieces++;
            lua_pop(L, 1);
        }
    } else if (origin->added) {
        // Every string key of the table that is not a member of the object was added (the
        // document link is the only other key a waiting table has).
        lua_pushnil(L);
        while (lua_next(L, index)) {
            if (lua_type(L, -2) != LUA_TSTRING) {
                lua_pop(L, 1);
                continue;
            }
            size_t n;
            const char *key = lua_tolstring(L, -2, &n);
            if (has_member(origin, key, n)) {
                lua_pop(L, 1);
                continue;
            }
            write_added_member(w, key, n, &count);
            pieces++;
            lua_pop(L, 1);
        }
    }
    if (kept == members && count == members) {
        ctx->out_len = start;
        put_byte(w, '=');
        put_u32(w, origin_number);
        return;
    }
    uint32_t sizes[2] = {count, pieces};
    memcpy(ctx->out + count_at, sizes, sizeof sizes);
}

static void write_table(tape_writer *w, int index) {
    lua_State *L = w->L;
    const void *self = lua_topointer(L, index);
    struct pinrules_origins *origins = w->ctx->origins;
    uint32_t origin_number = 0;
    doc_node *origin = origin_of(L, origins, index, &origin_number);
    // This call's, waiting, with members it set (see partial_index): compared while written.
    if (origin && origin->state == NODE_LAZY && origin->at[0] == 'o' && (origin->materialized || origin->added) && is_current_lazy(L, index, origins)) {
        write_partial_object(w, index, self, origin, origin_number);
        return;
    }
    // Filled objects are compared while they are written (write_marked_object); the rest first.
    int filled_object = origin && origin->state == NODE_FILLED && origin->at[0] == 'o';
    if (origin && !filled_object && table_unchanged(L, origins, origin_number, index, 0)) {
        put_byte(w, '=');
        put_u32(w, origin_number);
        return;
    }
    // Unfilled but not this call's (a rule kept it from an earlier call): fill it to read it.
    if (pinrules_fill_if_lazy(L, index)) {
        origin = NULL;
        filled_object = 0;
    }
    check_entering(w, self);
    int marker = 0;  // 1 array, 2 object
    if (lua_getmetatable(L, index)) {
        const void *mt = lua_topointer(L, -1);
        marker = mt == origins->array_mt ? 1 : mt == origins->object_mt ? 2 : 0;
        lua_pop(L, 1);
    }
    if (marker == 2) {
        write_marked_object(w, index, self, filled_object ? origin : NULL, origin_number);
        return;
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
        int origin_object = origin && origin->at[0] == 'o' && origin->state == NODE_FILLED;
        if (origin_object) {
            put_byte(w, 'O');
            put_u32(w, origin_number);
        } else {
            put_byte(w, 'o');
        }
        put_u32(w, (uint32_t)count);
        origin_member *members = origin_object ? origins->members + origin->first_member : NULL;
        member_index keys = {NULL, 0};
        if (origin_object && origin->member_count > 64) {
            // Linear search per key would make large objects quadratic: index them by key.
            keys = index_members(L, members, origin->member_count);   // a userdata, on the stack
        }
        lua_pushnil(L);
        while (lua_next(L, index)) {
            size_t n;
            const char *key = lua_tolstring(L, -2, &n);  // a string: no conversion in place
            // A member of the argument object is sent by its index there: the whole member
            // when it kept its value, the key only when the value changed.
            const origin_member *found = NULL;
            if (keys.slots) found = find_indexed_member(&keys, members, key, n);
            else if (origin_object) found = find_member(members, origin->member_count, key, n);
            if (found && value_unchanged(L, origins, lua_gettop(L), found, 0)) {
                put_kept(w, (uint32_t)(found - members));
                lua_pop(L, 1);
                continue;
            }
            w->path[w->depth].key = key;
            w->path[w->depth].key_length = n;
            w->depth++;
            if (found) {
                put_u32(w, UINT32_MAX - 1);
                put_u32(w, (uint32_t)(found - members));
            } else {
                put_string(w, key, n, 0);
            }
            write_value(w, lua_gettop(L));
            w->depth--;
            lua_pop(L, 1);
        }
        if (keys.slots) lua_pop(L, 1);
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
    ctx->out_invalid_utf8 = 0;
    for (int index = first; index <= last; index++) {
        ctx->bad_result = index - first + 1;
        write_value(&w, index);
        ctx->out_count++;
    }
    ctx->bad_result = 0;
}
