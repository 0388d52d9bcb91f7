/* cc.c - cyclomatic complexity as radon's ComplexityVisitor counts it: +1
 * for if/elif and conditional expressions, for and while loops (+1 more with
 * an else), each except handler and a try's else, each comprehension and
 * its ifs, each extra operand of and/or, each assert; functions and classes
 * are blocks of their own (classes: their methods' and their body's
 * decision points), nested functions are closures of their function. */
#include "static/cc.h"
#include "runtime/grow.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct fn {
    char *name;
    int lineno, col_offset, endline, complexity;
} fn_t;

typedef struct cls {
    char *name;
    int lineno, col_offset, endline, real_complexity;
    fn_t *methods;
    size_t n_methods;
} cls_t;

typedef struct visitor {
    long complexity;
    int to_method, rules, max_line, oom;
    const char *classname;
    fn_t *fns;
    size_t n_fns, cap_fns;
    cls_t *classes;
    size_t n_classes, cap_classes;
} visitor_t;

static void visit(void *ctx, omni_node_t n);

static void visitor_init(visitor_t *v, long start, int to_method, const char *classname,
                         int rules) {
    memset(v, 0, sizeof *v);
    v->complexity = start;
    v->to_method = to_method;
    v->classname = classname;
    v->rules = rules;
    v->max_line = INT_MIN;
}

static void free_fns(fn_t *f, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(f[i].name);
    free(f);
}

static void visitor_free(visitor_t *v) {
    free_fns(v->fns, v->n_fns);
    for (size_t i = 0; i < v->n_classes; i++) {
        free(v->classes[i].name);
        free_fns(v->classes[i].methods, v->classes[i].n_methods);
    }
    free(v->classes);
}

static char *name_of(PyObject *id) {
    const char *s = id ? PyUnicode_AsUTF8(id) : NULL;
    if (!s) {
        PyErr_Clear();
        s = "?";
    }
    return strdup(s);
}

static void add_fn(visitor_t *v, fn_t f) {
    if (v->n_fns == v->cap_fns) {
        size_t cap = v->cap_fns ? 2 * v->cap_fns : 8;
        fn_t *nf = realloc(v->fns, cap * sizeof *nf);
        if (!nf) {
            free(f.name);
            v->oom = 1;
            return;
        }
        v->fns = nf;
        v->cap_fns = cap;
    }
    v->fns[v->n_fns++] = f;
}

/* visit_FunctionDef: each statement of the body by a visitor of its own;
 * the end line is the last statement's visitor's. */
static void visit_function(visitor_t *v, stmt_ty s, PyObject *name, asdl_stmt_seq *body) {
    long complexity = 1;
    int last_max = INT_MIN;
    for (Py_ssize_t i = 0; i < asdl_seq_LEN(body); i++) {
        visitor_t c;
        visitor_init(&c, 0, 0, NULL, v->rules);
        visit(&c, omni_stmt_node(asdl_seq_GET(body, i)));
        complexity += c.complexity;
        last_max = c.max_line;
        v->oom |= c.oom;
        visitor_free(&c); /* closures and inner classes are not blocks */
    }
    fn_t f = {name_of(name), s->lineno, s->col_offset,
              last_max > s->lineno ? last_max : s->lineno, (int)complexity};
    if (!f.name) {
        v->oom = 1;
        return;
    }
    add_fn(v, f);
}

static void visit_class(visitor_t *v, stmt_ty s) {
    cls_t k = {name_of(s->v.ClassDef.name), s->lineno, s->col_offset, s->lineno, 1, NULL, 0};
    if (!k.name) {
        v->oom = 1;
        return;
    }
    size_t cap = 0;
    asdl_stmt_seq *body = s->v.ClassDef.body;
    for (Py_ssize_t i = 0; i < asdl_seq_LEN(body); i++) {
        visitor_t c;
        visitor_init(&c, 0, 1, k.name, v->rules);
        visit(&c, omni_stmt_node(asdl_seq_GET(body, i)));
        long methods = 0;
        for (size_t m = 0; m < c.n_fns; m++)
            methods += c.fns[m].complexity;
        k.real_complexity += (int)(c.complexity + methods);
        if (c.max_line > k.endline)
            k.endline = c.max_line;
        for (size_t m = 0; m < c.n_fns; m++) {
            if (c.fns[m].endline > k.endline)
                k.endline = c.fns[m].endline;
            if (k.n_methods == cap) {
                cap = cap ? 2 * cap : 8;
                fn_t *nm = realloc(k.methods, cap * sizeof *nm);
                if (!nm) {
                    v->oom = 1;
                    break;
                }
                k.methods = nm;
            }
            k.methods[k.n_methods++] = c.fns[m];
            c.fns[m].name = NULL;
        }
        v->oom |= c.oom;
        visitor_free(&c); /* inner classes are not among radon's blocks */
    }
    if (v->n_classes == v->cap_classes) {
        size_t nc = v->cap_classes ? 2 * v->cap_classes : 8;
        cls_t *ncl = realloc(v->classes, nc * sizeof *ncl);
        if (!ncl) {
            free(k.name);
            free_fns(k.methods, k.n_methods);
            v->oom = 1;
            return;
        }
        v->classes = ncl;
        v->cap_classes = nc;
    }
    v->classes[v->n_classes++] = k;
}

/* radon 6's visit of a match statement: its cases, less one when some case's
 * pattern is a capture without a pattern (`case _`, `case x`, guarded or
 * not: radon asks getattr(case.pattern, "pattern", False) is None). */
static long match_cases(stmt_ty s) {
    asdl_match_case_seq *cases = s->v.Match.cases;
    Py_ssize_t n = asdl_seq_LEN(cases);
    int catch_all = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        pattern_ty p = ((match_case_ty)asdl_seq_GET(cases, i))->pattern;
        catch_all |= p->kind == MatchAs_kind && p->v.MatchAs.pattern == NULL;
    }
    return n - catch_all > 0 ? n - catch_all : 0;
}

static void visit(void *ctx, omni_node_t n) {
    visitor_t *v = ctx;
    if (n.k == OMNI_N_STMT) {
        stmt_ty s = (stmt_ty)n.p;
        switch (s->kind) {
        case Assert_kind: /* visit_Assert: no generic visit of its parts */
            v->complexity += !(v->rules & OMNI_CC_NO_ASSERT);
            return;
        case FunctionDef_kind:
            visit_function(v, s, s->v.FunctionDef.name, s->v.FunctionDef.body);
            return;
        case AsyncFunctionDef_kind:
            visit_function(v, s, s->v.AsyncFunctionDef.name, s->v.AsyncFunctionDef.body);
            return;
        case ClassDef_kind:
            visit_class(v, s);
            return;
        case Try_kind:
            v->complexity += asdl_seq_LEN(s->v.Try.handlers) + (asdl_seq_LEN(s->v.Try.orelse) > 0);
            break;
        case If_kind:
            v->complexity += 1;
            break;
        case For_kind:
            v->complexity += 1 + (asdl_seq_LEN(s->v.For.orelse) > 0);
            break;
        case AsyncFor_kind:
            v->complexity += 1 + (asdl_seq_LEN(s->v.AsyncFor.orelse) > 0);
            break;
        case While_kind:
            v->complexity += 1 + (asdl_seq_LEN(s->v.While.orelse) > 0);
            break;
#if PY_VERSION_HEX >= 0x030A0000
        case Match_kind:
            if (v->rules & OMNI_CC_MATCH_CASES)
                v->complexity += match_cases(s);
            break;
#endif
        default: /* TryStar, With: nothing (Match too in radon 5) */
            break;
        }
    } else if (n.k == OMNI_N_EXPR) {
        expr_ty e = (expr_ty)n.p;
        if (e->kind == BoolOp_kind)
            v->complexity += asdl_seq_LEN(e->v.BoolOp.values) - 1;
        else if (e->kind == IfExp_kind)
            v->complexity += 1;
    } else if (n.k == OMNI_N_COMPREHENSION) {
        v->complexity += asdl_seq_LEN(((comprehension_ty)n.p)->ifs) + 1;
    }
    int line;
    if (omni_ast_lineno(n, &line) && line > v->max_line)
        v->max_line = line;
    omni_ast_children(n, visit, v);
}

static int add_block(omni_cc_t *out, omni_block_t b) {
    omni_block_t *nb = omni_grow(out->blocks, &out->cap, out->n, sizeof *nb, 16);
    if (!nb)
        return -1;
    out->blocks = nb;
    out->blocks[out->n++] = b;
    return 0;
}

static char *take(char **s) {
    char *x = *s;
    *s = NULL;
    return x;
}

int omni_cc_visit(mod_ty mod, int rules, omni_cc_t *out) {
    memset(out, 0, sizeof *out);
    visitor_t v;
    visitor_init(&v, 1, 0, NULL, rules);
    visit(&v, (omni_node_t){OMNI_N_MOD, mod});
    int rc = v.oom ? -1 : 0;
    long total = v.complexity;
    for (size_t i = 0; rc == 0 && i < v.n_fns; i++) {
        fn_t *f = &v.fns[i];
        total += f->complexity - 1;
        rc = add_block(out, (omni_block_t){'F', take(&f->name), NULL, f->lineno, f->col_offset,
                                           f->endline, f->complexity, 0});
    }
    for (size_t i = 0; rc == 0 && i < v.n_classes; i++) {
        cls_t *k = &v.classes[i];
        total += k->real_complexity - 1;
        /* a class's complexity: its methods' average (+1 with several) */
        int cc = k->n_methods ? (int)(k->real_complexity / (double)k->n_methods) +
                                    (k->n_methods > 1)
                              : k->real_complexity;
        char *cname = take(&k->name);
        rc = add_block(out, (omni_block_t){'C', cname, NULL, k->lineno, k->col_offset,
                                           k->endline, cc, (int)k->n_methods});
        for (size_t m = 0; rc == 0 && m < k->n_methods; m++) {
            fn_t *f = &k->methods[m];
            char *cn = strdup(cname ? cname : "?");
            rc = add_block(out, (omni_block_t){'M', take(&f->name), cn, f->lineno, f->col_offset,
                                               f->endline, f->complexity, 0});
        }
    }
    out->total_complexity = total;
    visitor_free(&v);
    if (rc < 0)
        omni_cc_free(out);
    return rc;
}

void omni_cc_free(omni_cc_t *c) {
    for (size_t i = 0; i < c->n; i++) {
        free(c->blocks[i].name);
        free(c->blocks[i].classname);
    }
    free(c->blocks);
    memset(c, 0, sizeof *c);
}

char omni_cc_rank(long cc) {
    long r = (long)ceil(cc / 10.0);
    if (r == 0)
        r = 1;
    r -= cc <= 5;
    return (char)('A' + (r < 5 ? r : 5));
}
