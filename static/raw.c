/* raw.c - radon's raw metrics (radon.raw.analyze) in one pass.
 *
 * radon splits the text into lines (str.splitlines), strips each, and
 * tokenizes a line alone, or with the lines after it as long as Python's
 * tokenize fails (an open bracket, a string or a backslash continuing): such
 * a group is one unit. A group that is one comment is a single comment; one
 * string on one line also counts as a single comment, on several lines as
 * multi-line string lines; anything else is source lines (and blank lines).
 * Logical lines: per ';'-separated part, 1, or 2 when a ':' is followed by
 * more than one token (radon's rule; a ':' inside brackets counts too).
 *
 * radon re-tokenizes a growing group from its start at every added line
 * (quadratic in a long string or call); this tokenizer keeps its state from
 * line to line, so a file takes one pass.
 *
 * Under Python 3.12+ (OMNI_RAW_FSTRING_TOKENS) tokenize splits an f-string
 * (3.14: a t-string too) into its start, its text, the tokens of its
 * replacement fields and its end (PEP 701): a line holding one is then code,
 * not a one-string "comment", and a ':' in a field (a format spec, a slice,
 * a dict) is one of the ':'s of the logical-line rule. A stack of frames
 * follows the nesting: an f-string's text, a field's expression, a format
 * spec (which holds fields of its own). */
#include "static/static_metrics.h"
#include "runtime/grow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { T_NAME, T_NUMBER, T_STRING, T_OP, T_COMMENT, T_FSTRING };

/* A frame of an f-string being tokenized (PEP 701): its text (F), a
 * replacement field's expression (E: depth counts its open brackets), a
 * format spec (S). */
#define FS_MAX 32
typedef struct fs_frame {
    char kind;             /* 'F', 'E' or 'S' */
    char quote;            /* F: its quote */
    char triple;           /* F: a triple-quoted one */
    int depth;             /* E: brackets open inside it */
} fs_frame_t;

typedef struct tok {
    unsigned char type;
    char op;               /* ':' or ';' for those operators, 0 for another */
    long row0, row1;       /* a string's first and last line in the group */
} tok_t;

typedef struct group {
    tok_t *t;
    size_t n, cap;
    int parenlev;
    int in_string;         /* inside a string that goes on at the next line */
    char quote;            /* its quote */
    int triple;
    long string_row0;
    int continued;         /* a backslash ended the line */
    int error;             /* what Python's tokenize reports as ERRORTOKEN */
    long lines, blank;     /* the group's lines, and those empty */
    int oom;
    int flags;             /* OMNI_RAW_*: how strings are tokenized */
    fs_frame_t fs[FS_MAX]; /* the f-strings open (innermost last) */
    int nfs;
} group_t;

static void push(group_t *g, unsigned char type, char op, long r0, long r1) {
    tok_t *nt = omni_grow(g->t, &g->cap, g->n, sizeof *nt, 32);
    if (!nt) {
        g->oom = 1;
        return;
    }
    g->t = nt;
    g->t[g->n++] = (tok_t){type, op, r0, r1};
}

static int is_name_start(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static int is_name_char(unsigned char c) {
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Whether s[0..n) is a string prefix Python accepts (any case): r u f b br
 * rb fr rf, and t tr rt where t-strings are (3.14). */
static int string_prefix(const char *s, size_t n, int flags) {
    char a[3] = {0};
    if (n > 2)
        return 0;
    for (size_t i = 0; i < n; i++)
        a[i] = (char)(s[i] | 0x20);
    int t = (flags & OMNI_RAW_TSTRING_TOKENS) != 0;
    if (n == 1)
        return strchr("rufb", a[0]) != NULL || (t && a[0] == 't');
    if (n == 2)
        return (a[0] == 'b' && a[1] == 'r') || (a[0] == 'r' && a[1] == 'b') ||
               (a[0] == 'f' && a[1] == 'r') || (a[0] == 'r' && a[1] == 'f') ||
               (t && ((a[0] == 't' && a[1] == 'r') || (a[0] == 'r' && a[1] == 't')));
    return 1;
}

/* Whether the prefix s[0..n) makes a string tokenize splits (f, or t). */
static int split_prefix(const char *s, size_t n, int flags) {
    for (size_t i = 0; i < n; i++) {
        char c = (char)(s[i] | 0x20);
        if (c == 'f' && (flags & OMNI_RAW_FSTRING_TOKENS))
            return 1;
        if (c == 't' && (flags & OMNI_RAW_TSTRING_TOKENS))
            return 1;
    }
    return 0;
}

/* Scans a string's body from p: returns where it ends (after the closing
 * quote), or NULL when the line ends first (*cont: a backslash continues it
 * to the next line). */
static const char *string_end(const char *p, const char *end, char quote, int triple, int *cont) {
    *cont = 0;
    while (p < end) {
        if (*p == '\\') {
            if (p + 1 >= end) {
                *cont = 1;
                return NULL;
            }
            p += 2;
            continue;
        }
        if (*p == quote) {
            if (!triple)
                return p + 1;
            if (end - p >= 3 && p[1] == quote && p[2] == quote)
                return p + 3;
        }
        p++;
    }
    return NULL;
}

static const char *const three_char_ops[] = {"**=", "//=", ">>=", "<<=", "...", NULL};
static const char *const two_char_ops[] = {"!=", "%=", "&=", "**", "*=", "+=", "-=", "->", "//",
                                           "/=", ":=", "<<", "<=", "==", ">=", ">>", "@=", "^=",
                                           "|=", NULL};

static size_t op_len(const char *p, const char *end) {
    for (int i = 0; three_char_ops[i]; i++)
        if (end - p >= 3 && memcmp(p, three_char_ops[i], 3) == 0)
            return 3;
    for (int i = 0; two_char_ops[i]; i++)
        if (end - p >= 2 && memcmp(p, two_char_ops[i], 2) == 0)
            return 2;
    if (strchr("+-*/%&|^~<>=.,:;@()[]{}", *p))
        return 1;
    return 0; /* '!' alone, '$', '?', '`': tokenize's ERRORTOKEN */
}

static void fs_push(group_t *g, char kind, char quote, char triple) {
    if (g->nfs == FS_MAX) {
        g->error = 1; /* nested deeper than any real program */
        return;
    }
    g->fs[g->nfs++] = (fs_frame_t){kind, quote, triple, 0};
}

/* Scans the text of the innermost frame, an f-string's (F) or a format
 * spec's (S), from *pp to the next token: 1 with *pp after it, 0 when the
 * line ended first. */
static int fs_text(group_t *g, const char **pp, const char *end, long row) {
    const char *p = *pp;
    fs_frame_t *f = &g->fs[g->nfs - 1];
    while (p < end) {
        char c = *p;
        if (c == '\\') {
            if (p + 1 >= end) {
                *pp = end;
                return 0; /* a backslash continues the text at the next line */
            }
            p += 2;
            continue;
        }
        if (f->kind == 'F' && c == f->quote &&
            (!f->triple || (end - p >= 3 && p[1] == c && p[2] == c))) {
            g->nfs--;
            push(g, T_FSTRING, 0, row, row); /* FSTRING_END */
            *pp = p + (f->triple ? 3 : 1);
            return 1;
        }
        if (c == '{' && !(f->kind == 'F' && p + 1 < end && p[1] == '{')) {
            push(g, T_OP, 0, row, row); /* a replacement field */
            fs_push(g, 'E', 0, 0);
            *pp = p + 1;
            return 1;
        }
        if (c == '}' && f->kind == 'S') { /* the end of the spec's field */
            push(g, T_OP, 0, row, row);
            g->nfs--;
            *pp = p + 1;
            return 1;
        }
        if ((c == '{' || c == '}') && p + 1 < end && p[1] == c) {
            p += 2; /* {{ and }}: the characters themselves */
            continue;
        }
        if (c == '}')
            g->error = 1; /* a lone } in an f-string's text */
        p++;
    }
    *pp = end;
    if (f->kind == 'F' && !f->triple)
        g->error = 1; /* the line ended inside a one-line f-string */
    return 0;
}

/* Tokenizes one (stripped) line of the group, row = its index in it. */
static void tokenize_line(group_t *g, const char *p, const char *end, long row) {
    g->continued = 0;
    if (g->in_string) {
        int cont;
        const char *e = string_end(p, end, g->quote, g->triple, &cont);
        if (!e)
            return; /* the string goes on (a single-quoted one only after a backslash) */
        g->in_string = 0;
        push(g, T_STRING, 0, g->string_row0, row);
        p = e;
    }
    while (p < end) {
        if (g->nfs && g->fs[g->nfs - 1].kind != 'E') {
            if (!fs_text(g, &p, end, row))
                return;
            continue;
        }
        /* in a replacement field's expression, or outside any f-string */
        fs_frame_t *field = g->nfs ? &g->fs[g->nfs - 1] : NULL;
        unsigned char c = (unsigned char)*p;
        if (c == ' ' || c == '\t' || c == '\f') {
            p++;
            continue;
        }
        if (c == '#') {
            push(g, T_COMMENT, 0, row, row);
            return;
        }
        if (c == '\\') {
            if (p + 1 == end) {
                g->continued = 1; /* continues at the next line */
                return;
            }
            g->error = 1;
            p++;
            continue;
        }
        if (field && field->depth == 0 &&
            (c == ':' || c == '}' || (c == '!' && !(p + 1 < end && p[1] == '=')))) {
            /* a format spec begins, the field ends, a conversion (!r) */
            push(g, T_OP, c == ':' ? ':' : 0, row, row);
            if (c == ':')
                field->kind = 'S';
            else if (c == '}')
                g->nfs--;
            p++;
            continue;
        }
        if (c == '"' || c == '\'' || is_name_start(c)) {
            const char *q = p;
            while (q < end && is_name_char((unsigned char)*q))
                q++;
            if (q < end && (*q == '"' || *q == '\'') &&
                string_prefix(p, (size_t)(q - p), g->flags)) {
                char quote = *q;
                int triple = end - q >= 3 && q[1] == quote && q[2] == quote;
                const char *body = q + (triple ? 3 : 1);
                if (split_prefix(p, (size_t)(q - p), g->flags)) {
                    push(g, T_FSTRING, 0, row, row); /* FSTRING_START */
                    fs_push(g, 'F', quote, (char)triple);
                    p = body;
                    continue;
                }
                int cont;
                const char *e = string_end(body, end, quote, triple, &cont);
                if (e) {
                    push(g, T_STRING, 0, row, row);
                    p = e;
                    continue;
                }
                if ((triple || cont) && !field) {
                    g->in_string = 1;
                    g->quote = quote;
                    g->triple = triple;
                    g->string_row0 = row;
                    return;
                }
                /* an unterminated single-quoted string (or one going on to
                 * the next line inside an f-string's field): the quote is an
                 * error token and tokenizing goes on after it */
                if (q > p)
                    push(g, T_NAME, 0, row, row);
                g->error = 1;
                p = q + 1;
                continue;
            }
            if (q > p) {
                push(g, T_NAME, 0, row, row);
                p = q;
                continue;
            }
        }
        if ((c >= '0' && c <= '9') || (c == '.' && p + 1 < end && p[1] >= '0' && p[1] <= '9')) {
            const char *q = p + 1;
            while (q < end && (is_name_char((unsigned char)*q) || *q == '.' ||
                               ((*q == '+' || *q == '-') && (q[-1] == 'e' || q[-1] == 'E') &&
                                !(p[0] == '0' && p + 1 < end && (p[1] | 0x20) == 'x'))))
                q++;
            push(g, T_NUMBER, 0, row, row);
            p = q;
            continue;
        }
        size_t n = op_len(p, end);
        if (!n) {
            g->error = 1;
            p++;
            continue;
        }
        int *level = field ? &field->depth : &g->parenlev;
        if (n == 1 && (c == '(' || c == '[' || c == '{'))
            (*level)++;
        else if (n == 1 && (c == ')' || c == ']' || c == '}'))
            (*level)--;
        push(g, T_OP, n == 1 && (c == ':' || c == ';') ? (char)c : 0, row, row);
        p += n;
    }
}

static int group_done(const group_t *g) {
    return !g->in_string && !g->nfs && !g->continued && g->parenlev <= 0 && !g->error;
}

/* radon.raw._logical over the group's tokens. */
static long logical(const group_t *g) {
    long lloc = 0;
    size_t i = 0;
    for (;;) {
        /* one ';'-separated part: its tokens but comments; the last part also
         * holds ENDMARKER */
        long n = 0, colon = -1;
        size_t j = i;
        for (; j < g->n && !(g->t[j].type == T_OP && g->t[j].op == ';'); j++) {
            if (g->t[j].type == T_COMMENT)
                continue;
            if (g->t[j].type == T_OP && g->t[j].op == ':')
                colon = n;
            n++;
        }
        int last = j >= g->n;
        long with_em = n + last;
        if (colon >= 0)
            lloc += 2 - (colon == with_em - 2);
        else
            lloc += n > 0;
        if (last)
            break;
        i = j + 1;
    }
    return lloc;
}

static void count_group(const group_t *g, omni_raw_t *r) {
    for (size_t i = 0; i < g->n; i++)
        r->comments += g->t[i].type == T_COMMENT;
    long nonblank = g->lines - g->blank;
    if (g->n == 1 && g->t[0].type == T_COMMENT) {
        r->single_comments++;
    } else if (g->n == 1 && g->t[0].type == T_STRING) {
        if (g->t[0].row0 == g->t[0].row1) {
            r->single_comments++;
        } else {
            r->multi += nonblank;
            r->blank += g->blank;
        }
    } else {
        r->sloc += nonblank;
        r->blank += g->blank;
    }
    r->lloc += logical(g);
}

/* ---------------------------------------------------------------- lines as str.splitlines makes them */

/* The length of a line break at p (0 when none): \n \r \r\n \v \f \x1c-\x1e
 * U+0085 U+2028 U+2029. */
static size_t line_break(const unsigned char *p, const unsigned char *end) {
    unsigned char c = *p;
    if (c == '\r')
        return p + 1 < end && p[1] == '\n' ? 2 : 1;
    if (c == '\n' || c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1e))
        return 1;
    if (c == 0xC2 && p + 1 < end && p[1] == 0x85)
        return 2;
    if (c == 0xE2 && p + 2 < end && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9))
        return 3;
    return 0;
}

/* The length of a whitespace character at p as str.strip sees it, or 0. */
static size_t space_at(const unsigned char *p, const unsigned char *end) {
    unsigned char c = *p;
    if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f))
        return 1;
    if (c == 0xC2 && p + 1 < end && (p[1] == 0x85 || p[1] == 0xA0))
        return 2;
    if (c == 0xE1 && p + 2 < end && p[1] == 0x9A && p[2] == 0x80)
        return 3; /* U+1680 */
    if (c == 0xE2 && p + 2 < end && p[1] == 0x80 &&
        ((p[2] >= 0x80 && p[2] <= 0x8A) || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF))
        return 3; /* U+2000-200A, 2028, 2029, 202F */
    if (c == 0xE2 && p + 2 < end && p[1] == 0x81 && p[2] == 0x9F)
        return 3; /* U+205F */
    if (c == 0xE3 && p + 2 < end && p[1] == 0x80 && p[2] == 0x80)
        return 3; /* U+3000 */
    return 0;
}

/* The stripped [*b, *e) of the line [s, e). */
static void strip(const unsigned char **b, const unsigned char **e) {
    size_t k;
    while (*b < *e && (k = space_at(*b, *e)))
        *b += k;
    /* from the end: whitespace characters are 1 to 3 bytes long */
    for (;;) {
        const unsigned char *q = *e;
        int found = 0;
        for (int len = 1; len <= 3 && q - len >= *b && !found; len++)
            if (space_at(q - len, q) == (size_t)len)
                *e = q - len, found = 1;
        if (!found)
            break;
    }
}

int omni_raw_analyze(const char *text, size_t len, int flags, omni_raw_t *out, long *bad_line) {
    memset(out, 0, sizeof *out);
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    group_t g = {0};
    g.flags = flags;
    long lineno = 0, group_start = 0;
    int in_group = 0;
    while (p < end) {
        const unsigned char *s = p;
        size_t br = 0;
        while (p < end && !(br = line_break(p, end)))
            p++;
        const unsigned char *b = s, *e = p;
        p += br;
        lineno++;
        strip(&b, &e);
        if (!in_group) {
            g.n = 0;
            g.parenlev = g.in_string = g.continued = g.error = g.nfs = 0;
            g.lines = g.blank = 0;
            group_start = lineno;
            in_group = 1;
        }
        g.lines++;
        g.blank += b == e;
        tokenize_line(&g, (const char *)b, (const char *)e, g.lines - 1);
        if (g.oom)
            break;
        if (group_done(&g)) {
            count_group(&g, out);
            in_group = 0;
        }
    }
    free(g.t);
    if (g.oom) {
        *bad_line = 0;
        return -1;
    }
    if (in_group) {
        *bad_line = group_start;
        return -1;
    }
    out->loc = out->sloc + out->blank + out->multi + out->single_comments;
    return 0;
}
