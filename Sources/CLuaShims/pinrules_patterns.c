/*
 * pinrules_patterns.c - budgeted Lua 5.4 pattern matching.
 *
 * A backtracking matcher with the semantics of Lua 5.4.4 string patterns
 * (manual section 6.4.1), written so that every unit of work is counted and
 * charged to the sandbox through pinrules_sandbox_charge(). That function may
 * raise a Lua error (longjmp) at any charge point, so this file never mallocs:
 * all state lives on the C stack, in a Lua userdata (gmatch) or in a
 * luaL_Buffer (gsub), and is reclaimed by Lua on unwinding.
 *
 * The recursion structure (which constructs recurse and which loop in place)
 * deliberately mirrors stock Lua, so that the "pattern too complex" limit
 * triggers on exactly the same patterns.
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>

#include "pinrules_patterns.h"

#define PAT_MAXCAPTURES 32   /* LUA_MAXCAPTURES in stock lstrlib.c */
#define PAT_MAXDEPTH 200     /* MAXCCALLS in stock lstrlib.c */
#define PAT_ESC '%'
#define PAT_SPECIALS "^$*+?.([%-"

/* Capture lengths that are not lengths. */
#define CAP_OPEN (-1)       /* capture started, not closed yet */
#define CAP_POSITION (-2)   /* "()" position capture */

#define uchar(c) ((unsigned char)(c))

typedef struct {
  const char *start;
  ptrdiff_t len; /* >= 0, CAP_OPEN or CAP_POSITION */
} PatCapture;

typedef struct {
  const char *src;     /* subject start */
  const char *src_end; /* subject end (a NUL byte is always there) */
  const char *pat_end; /* pattern end (a NUL byte is always there) */
  lua_State *L;
  lua_Integer steps;   /* work done since the last charge */
  int depth;           /* recursion levels still allowed */
  int level;           /* number of captures (open or closed) */
  PatCapture cap[PAT_MAXCAPTURES];
} PatState;

/* ---------------------------------------------------------------- budget */

static void pat_flush(PatState *ms) {
  lua_Integer n = ms->steps;
  ms->steps = 0; /* reset first: the charge may not return */
  if (n > 0)
    pinrules_sandbox_charge(ms->L, n);
}

/* Count `n` units of work; charge the sandbox once a batch is full. */
static inline void pat_step(PatState *ms, lua_Integer n) {
  ms->steps += n;
  if (ms->steps >= PINRULES_PATTERN_CHARGE_EVERY)
    pat_flush(ms);
}

static void pat_init(PatState *ms, lua_State *L, const char *s, size_t ls,
                     const char *p, size_t lp) {
  ms->src = s;
  ms->src_end = s + ls;
  ms->pat_end = p + lp;
  ms->L = L;
  ms->steps = 0;
  ms->depth = PAT_MAXDEPTH;
  ms->level = 0;
}

/* Before each match attempt. Depth is reset too: a budget error may have
 * unwound an earlier attempt half-way (gmatch keeps its state across calls). */
static void pat_reset(PatState *ms) {
  ms->level = 0;
  ms->depth = PAT_MAXDEPTH;
}

/* ------------------------------------------------------ single characters */

/* Does byte c belong to class letter cl (%a, %D, ...)? Any other letter after
 * '%' stands for itself. */
static int class_matches(int c, int cl) {
  int hit;
  switch (tolower(cl)) {
  case 'a': hit = isalpha(c); break;
  case 'c': hit = iscntrl(c); break;
  case 'd': hit = isdigit(c); break;
  case 'g': hit = isgraph(c); break;
  case 'l': hit = islower(c); break;
  case 'p': hit = ispunct(c); break;
  case 's': hit = isspace(c); break;
  case 'u': hit = isupper(c); break;
  case 'w': hit = isalnum(c); break;
  case 'x': hit = isxdigit(c); break;
  case 'z': hit = (c == 0); break; /* deprecated, still accepted by 5.4 */
  default: return cl == c;
  }
  if (isupper(cl)) /* upper-case letter: the complement */
    return !hit;
  return hit != 0;
}

/* Does byte c belong to the set [...] that spans set_open..set_close (the
 * positions of '[' and of its closing ']')? */
static int set_matches(int c, const char *set_open, const char *set_close) {
  const char *p = set_open + 1;
  int result = 1;
  if (*p == '^') { /* complement */
    result = 0;
    p++;
  }
  for (; p < set_close; p++) {
    if (*p == PAT_ESC) {
      p++;
      if (class_matches(c, uchar(*p)))
        return result;
    } else if (p[1] == '-' && p + 2 < set_close) { /* range x-y */
      if (uchar(p[0]) <= c && c <= uchar(p[2]))
        return result;
      p += 2;
    } else if (uchar(*p) == c) {
      return result;
    }
  }
  return !result;
}

/* Returns the end of the single-character class that starts at p, raising the
 * malformed-pattern errors. A ']' right after '[' or '[^' is a literal. */
static const char *class_end(PatState *ms, const char *p) {
  const char *q = p + 1;
  if (*p == PAT_ESC) {
    if (q == ms->pat_end)
      luaL_error(ms->L, "malformed pattern (ends with '%%')");
    return q + 1;
  }
  if (*p != '[')
    return q;
  if (*q == '^')
    q++;
  for (;;) { /* the first item is always part of the set, even a ']' */
    if (q == ms->pat_end)
      luaL_error(ms->L, "malformed pattern (missing ']')");
    if (*q == PAT_ESC && q + 1 < ms->pat_end)
      q += 2; /* an escape pair: its second byte never closes the set */
    else
      q++;
    if (*q == ']')
      return q + 1;
  }
}

/* Does the subject byte at s match the class p..ep? (Counted as one step.) */
static int single_match(PatState *ms, const char *s, const char *p,
                        const char *ep) {
  int c;
  pat_step(ms, 1);
  if (s >= ms->src_end)
    return 0;
  c = uchar(*s);
  switch (*p) {
  case '.': return 1;
  case PAT_ESC: return class_matches(c, uchar(p[1]));
  case '[': return set_matches(c, p, ep - 1);
  default: return uchar(*p) == c;
  }
}

/* ---------------------------------------------------------- the matcher */

static const char *do_match(PatState *ms, const char *s, const char *p);

/* Greedy repetition: take as many as possible, then back off one at a time. */
static const char *expand_greedy(PatState *ms, const char *s, const char *p,
                                 const char *ep) {
  ptrdiff_t n = 0;
  while (single_match(ms, s + n, p, ep))
    n++;
  for (; n >= 0; n--) {
    const char *r = do_match(ms, s + n, ep + 1);
    if (r != NULL)
      return r;
  }
  return NULL;
}

/* Lazy repetition: try the rest first, take one more item only on failure. */
static const char *expand_lazy(PatState *ms, const char *s, const char *p,
                               const char *ep) {
  for (;;) {
    const char *r = do_match(ms, s, ep + 1);
    if (r != NULL)
      return r;
    if (!single_match(ms, s, p, ep))
      return NULL;
    s++;
  }
}

static const char *open_capture(PatState *ms, const char *s, const char *p,
                                ptrdiff_t what) {
  const char *r;
  int lvl = ms->level;
  if (lvl >= PAT_MAXCAPTURES)
    luaL_error(ms->L, "too many captures");
  ms->cap[lvl].start = s;
  ms->cap[lvl].len = what;
  ms->level = lvl + 1;
  r = do_match(ms, s, p);
  if (r == NULL)
    ms->level--; /* undo on backtrack */
  return r;
}

static const char *close_capture(PatState *ms, const char *s, const char *p) {
  const char *r;
  int lvl = ms->level - 1;
  while (lvl >= 0 && ms->cap[lvl].len != CAP_OPEN) /* innermost open one */
    lvl--;
  if (lvl < 0)
    luaL_error(ms->L, "invalid pattern capture");
  ms->cap[lvl].len = s - ms->cap[lvl].start;
  r = do_match(ms, s, p);
  if (r == NULL)
    ms->cap[lvl].len = CAP_OPEN; /* undo on backtrack */
  return r;
}

/* %bxy at p (p points at x). */
static const char *match_balance(PatState *ms, const char *s, const char *p) {
  size_t open_count;
  char open, close;
  if (p >= ms->pat_end - 1)
    luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
  if (s >= ms->src_end || *s != *p)
    return NULL;
  open = p[0];
  close = p[1];
  open_count = 1;
  while (++s < ms->src_end) {
    pat_step(ms, 1);
    if (*s == close) {
      if (--open_count == 0)
        return s + 1;
    } else if (*s == open) {
      open_count++;
    }
  }
  return NULL;
}

/* Index of a closed capture for a back-reference or '%n' replacement digit. */
static int capture_index(PatState *ms, int digit) {
  int i = digit - '1';
  if (i < 0 || i >= ms->level || ms->cap[i].len == CAP_OPEN)
    luaL_error(ms->L, "invalid capture index %%%d", i + 1);
  return i;
}

/* %1..%9 inside a pattern. A position capture never matches as text. */
static const char *match_backref(PatState *ms, const char *s, int digit) {
  int i = capture_index(ms, digit);
  ptrdiff_t len = ms->cap[i].len;
  if (len < 0)
    return NULL;
  pat_step(ms, 1 + (len >> 5)); /* memcmp work grows with the length */
  if (ms->src_end - s >= len && memcmp(ms->cap[i].start, s, (size_t)len) == 0)
    return s + len;
  return NULL;
}

/*
 * Matches pattern p..pat_end against the subject at s; returns the end of the
 * match or NULL. Items that cannot need backtracking (plain characters,
 * %b, %f, back-references) loop in place; quantifiers and captures recurse.
 */
static const char *do_match(PatState *ms, const char *s, const char *p) {
  if (ms->depth-- == 0)
    luaL_error(ms->L, "pattern too complex");
  pat_step(ms, 1);
  while (p != ms->pat_end) {
    const char *ep;
    switch (*p) {
    case '(':
      if (p[1] == ')')
        s = open_capture(ms, s, p + 2, CAP_POSITION);
      else
        s = open_capture(ms, s, p + 1, CAP_OPEN);
      goto done;
    case ')':
      s = close_capture(ms, s, p + 1);
      goto done;
    case '$':
      if (p + 1 == ms->pat_end) { /* anchor only as the last byte */
        if (s != ms->src_end)
          s = NULL;
        goto done;
      }
      break; /* otherwise a literal '$' */
    case PAT_ESC:
      if (p[1] == 'b') {
        s = match_balance(ms, s, p + 2);
        if (s == NULL)
          goto done;
        p += 4;
        continue;
      }
      if (p[1] == 'f') {
        int prev, cur;
        p += 2;
        if (*p != '[')
          luaL_error(ms->L, "missing '[' after '%%f' in pattern");
        ep = class_end(ms, p);
        /* the subject is framed by virtual NUL bytes at both ends */
        prev = (s == ms->src) ? 0 : uchar(s[-1]);
        cur = (s < ms->src_end) ? uchar(*s) : 0;
        if (!set_matches(prev, p, ep - 1) && set_matches(cur, p, ep - 1)) {
          p = ep;
          continue;
        }
        s = NULL;
        goto done;
      }
      if (isdigit(uchar(p[1]))) {
        s = match_backref(ms, s, uchar(p[1]));
        if (s == NULL)
          goto done;
        p += 2;
        continue;
      }
      break; /* a class such as %a or an escaped character */
    default:
      break;
    }
    /* a single-character class, possibly followed by a quantifier */
    ep = class_end(ms, p);
    if (!single_match(ms, s, p, ep)) {
      if (*ep == '*' || *ep == '?' || *ep == '-') { /* zero items is fine */
        p = ep + 1;
        continue;
      }
      s = NULL;
      goto done;
    }
    switch (*ep) {
    case '?': {
      const char *r = do_match(ms, s + 1, ep + 1);
      if (r != NULL) {
        s = r;
        goto done;
      }
      p = ep + 1; /* try without the optional item */
      continue;
    }
    case '+':
      s = expand_greedy(ms, s + 1, p, ep); /* one item already matched */
      goto done;
    case '*':
      s = expand_greedy(ms, s, p, ep);
      goto done;
    case '-':
      s = expand_lazy(ms, s, p, ep);
      goto done;
    default:
      s++;
      p = ep;
      continue;
    }
  }
done:
  ms->depth++;
  return s;
}

/* ------------------------------------------------------------ captures */

/* Pushes capture i (or the whole match s..e when there are no captures and
 * i == 0). For text captures returns the length and sets *text; for a
 * position capture pushes the position and returns CAP_POSITION. */
static ptrdiff_t get_capture(PatState *ms, int i, const char *s, const char *e,
                             const char **text) {
  ptrdiff_t len;
  if (i >= ms->level) {
    if (i != 0)
      luaL_error(ms->L, "invalid capture index %%%d", i + 1);
    *text = s;
    return e - s;
  }
  len = ms->cap[i].len;
  *text = ms->cap[i].start;
  if (len == CAP_OPEN)
    luaL_error(ms->L, "unfinished capture");
  if (len == CAP_POSITION)
    lua_pushinteger(ms->L, (ms->cap[i].start - ms->src) + 1);
  return len;
}

static void push_capture(PatState *ms, int i, const char *s, const char *e) {
  const char *text;
  ptrdiff_t len = get_capture(ms, i, s, e, &text);
  if (len != CAP_POSITION)
    lua_pushlstring(ms->L, text, (size_t)len);
}

/* Pushes all captures; with none, the whole match (unless s is NULL, as for
 * find, which returns indices instead). Returns the number pushed. */
static int push_captures(PatState *ms, const char *s, const char *e) {
  int i, n = (ms->level == 0 && s != NULL) ? 1 : ms->level;
  luaL_checkstack(ms->L, n, "too many captures");
  for (i = 0; i < n; i++)
    push_capture(ms, i, s, e);
  return n;
}

/* ------------------------------------------------------- find and match */

/* Lua 5.4 rule for a start index: negative counts from the end, 0 and
 * anything before the start clamp to 1. Result is 1-based. */
static size_t start_index(lua_Integer pos, size_t len) {
  if (pos > 0)
    return (size_t)pos;
  if (pos == 0 || pos < -(lua_Integer)len)
    return 1;
  return len + (size_t)pos + 1;
}

static int has_specials(const char *p, size_t lp) {
  size_t i;
  for (i = 0; i < lp; i++)
    if (p[i] != '\0' && strchr(PAT_SPECIALS, p[i]) != NULL)
      return 1;
  return 0;
}

/* First occurrence of needle in hay, charging per candidate position. */
static const char *plain_search(PatState *ms, const char *hay, size_t lh,
                                const char *needle, size_t ln) {
  const char *last;
  lua_Integer cost = 1 + (lua_Integer)(ln >> 5);
  if (ln == 0)
    return hay;
  if (ln > lh)
    return NULL;
  last = hay + (lh - ln); /* last possible start */
  while (hay <= last) {
    const char *c = memchr(hay, needle[0], (size_t)(last - hay) + 1);
    if (c == NULL)
      return NULL;
    pat_step(ms, cost);
    if (memcmp(c + 1, needle + 1, ln - 1) == 0)
      return c;
    hay = c + 1;
  }
  return NULL;
}

static int find_or_match(lua_State *L, int is_find) {
  size_t ls, lp;
  const char *s = luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  size_t init = start_index(luaL_optinteger(L, 3, 1), ls) - 1;
  PatState ms;
  if (init > ls) { /* starts after the end: nothing can match */
    luaL_pushfail(L);
    return 1;
  }
  if (is_find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
    const char *hit;
    pat_init(&ms, L, s, ls, p, lp);
    hit = plain_search(&ms, s + init, ls - init, p, lp);
    pat_flush(&ms);
    if (hit != NULL) {
      lua_pushinteger(L, (hit - s) + 1);
      lua_pushinteger(L, (lua_Integer)(hit - s) + (lua_Integer)lp);
      return 2;
    }
  } else {
    const char *start = s + init;
    int anchored = (*p == '^');
    if (anchored) {
      p++;
      lp--;
    }
    pat_init(&ms, L, s, ls, p, lp);
    for (;;) {
      const char *e;
      pat_reset(&ms);
      e = do_match(&ms, start, p);
      if (e != NULL) {
        pat_flush(&ms);
        if (is_find) {
          lua_pushinteger(L, (start - s) + 1);
          lua_pushinteger(L, e - s);
          return push_captures(&ms, NULL, NULL) + 2;
        }
        return push_captures(&ms, start, e);
      }
      if (anchored || start >= ms.src_end)
        break;
      start++;
    }
    pat_flush(&ms);
  }
  luaL_pushfail(L);
  return 1;
}

static int pr_find(lua_State *L) { return find_or_match(L, 1); }
static int pr_match(lua_State *L) { return find_or_match(L, 0); }

/* ---------------------------------------------------------------- gmatch */

typedef struct {
  PatState ms;
  const char *pat;
  const char *next;      /* where the next search starts */
  const char *lastmatch; /* end of the previous match: no empty match there */
} GmatchState;

static int gmatch_step(lua_State *L) {
  GmatchState *gm = (GmatchState *)lua_touserdata(L, lua_upvalueindex(3));
  const char *src;
  gm->ms.L = L; /* the iterator may run in another coroutine */
  gm->ms.steps = 0;
  for (src = gm->next; src <= gm->ms.src_end; src++) {
    const char *e;
    pat_reset(&gm->ms);
    e = do_match(&gm->ms, src, gm->pat);
    if (e != NULL && e != gm->lastmatch) {
      pat_flush(&gm->ms); /* may raise: charge before consuming the match */
      gm->next = gm->lastmatch = e;
      return push_captures(&gm->ms, src, e);
    }
  }
  pat_flush(&gm->ms);
  return 0;
}

static int pr_gmatch(lua_State *L) {
  size_t ls, lp;
  const char *s = luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  size_t init = start_index(luaL_optinteger(L, 3, 1), ls) - 1;
  GmatchState *gm;
  lua_settop(L, 2); /* the closure keeps both strings alive */
  gm = (GmatchState *)lua_newuserdatauv(L, sizeof(GmatchState), 0);
  if (init > ls)
    init = ls + 1; /* past the end, and no pointer overflow */
  pat_init(&gm->ms, L, s, ls, p, lp);
  gm->pat = p; /* no '^' anchor in gmatch: stock 5.4 treats it literally */
  gm->next = s + init;
  gm->lastmatch = NULL;
  lua_pushcclosure(L, gmatch_step, 3);
  return 1;
}

/* ------------------------------------------------------------------ gsub */

/* Appends a string replacement, expanding %0-%9 and %%. */
static void add_template(PatState *ms, luaL_Buffer *b, const char *s,
                         const char *e) {
  lua_State *L = ms->L;
  size_t l;
  const char *r = lua_tolstring(L, 3, &l);
  const char *rend = r + l;
  pat_step(ms, 1 + (lua_Integer)(l >> 6));
  for (;;) {
    const char *pct = (const char *)memchr(r, PAT_ESC, (size_t)(rend - r));
    char c;
    if (pct == NULL)
      break;
    luaL_addlstring(b, r, (size_t)(pct - r));
    c = pct[1]; /* may be the terminating NUL: then it is an error */
    if (c == PAT_ESC) {
      luaL_addchar(b, PAT_ESC);
    } else if (c == '0') {
      pat_step(ms, 1 + ((e - s) >> 6));
      luaL_addlstring(b, s, (size_t)(e - s));
    } else if (isdigit(uchar(c))) {
      const char *text;
      ptrdiff_t len = get_capture(ms, c - '1', s, e, &text);
      if (len == CAP_POSITION) {
        luaL_addvalue(b); /* the pushed position, as a string */
      } else {
        pat_step(ms, 1 + (len >> 6));
        luaL_addlstring(b, text, (size_t)len);
      }
    } else {
      luaL_error(L, "invalid use of '%c' in replacement string", PAT_ESC);
    }
    r = pct + 2;
  }
  luaL_addlstring(b, r, (size_t)(rend - r));
}

/* Appends the replacement for match s..e; returns whether it changed the
 * text (a false/nil result from a table or function keeps the original). */
static int add_replacement(PatState *ms, luaL_Buffer *b, const char *s,
                           const char *e, int repl_type) {
  lua_State *L = ms->L;
  if (repl_type == LUA_TFUNCTION) {
    int n;
    lua_pushvalue(L, 3);
    n = push_captures(ms, s, e);
    lua_call(L, n, 1);
  } else if (repl_type == LUA_TTABLE) {
    push_capture(ms, 0, s, e);
    lua_gettable(L, 3);
  } else {
    add_template(ms, b, s, e);
    return 1;
  }
  if (!lua_toboolean(L, -1)) {
    lua_pop(L, 1);
    luaL_addlstring(b, s, (size_t)(e - s));
    return 0;
  }
  if (!lua_isstring(L, -1))
    return luaL_error(L, "invalid replacement value (a %s)",
                      luaL_typename(L, -1));
  luaL_addvalue(b);
  return 1;
}

static int pr_gsub(lua_State *L) {
  size_t srcl, lp;
  const char *src = luaL_checklstring(L, 1, &srcl);
  const char *p = luaL_checklstring(L, 2, &lp);
  const char *lastmatch = NULL;
  int repl_type = lua_type(L, 3);
  lua_Integer max_n = luaL_optinteger(L, 4, (lua_Integer)srcl + 1);
  int anchored = (*p == '^');
  lua_Integer n = 0;
  int changed = 0;
  PatState ms;
  luaL_Buffer b;
  luaL_argexpected(L,
                   repl_type == LUA_TNUMBER || repl_type == LUA_TSTRING ||
                       repl_type == LUA_TFUNCTION || repl_type == LUA_TTABLE,
                   3, "string/function/table");
  luaL_buffinit(L, &b);
  if (anchored) {
    p++;
    lp--;
  }
  pat_init(&ms, L, src, srcl, p, lp);
  while (n < max_n) {
    const char *e;
    pat_reset(&ms);
    e = do_match(&ms, src, p);
    if (e != NULL && e != lastmatch) {
      n++;
      changed = add_replacement(&ms, &b, src, e, repl_type) | changed;
      src = lastmatch = e;
    } else if (src < ms.src_end) {
      luaL_addchar(&b, *src++);
    } else {
      break;
    }
    if (anchored)
      break;
  }
  pat_flush(&ms);
  if (!changed) {
    lua_pushvalue(L, 1); /* nothing replaced: the original string */
  } else {
    luaL_addlstring(&b, src, (size_t)(ms.src_end - src));
    luaL_pushresult(&b);
  }
  lua_pushinteger(L, n);
  return 2;
}

/* ---------------------------------------------------------------- public */

void pinrules_patterns_register(lua_State *L, int table_index) {
  static const luaL_Reg functions[] = {
    {"find", pr_find}, {"match", pr_match}, {"gmatch", pr_gmatch}, {"gsub", pr_gsub}, {NULL, NULL},
  };
  lua_pushvalue(L, table_index);   /* luaL_setfuncs fills the table on top */
  luaL_setfuncs(L, functions, 0);
  lua_pop(L, 1);
}
