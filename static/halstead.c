/* halstead.c - Halstead's counts as radon's HalsteadVisitor makes them:
 * operators are the operators of binary, unary, boolean and augmented
 * operations and comparisons; operands their operands, told apart by the
 * function they are in and by value (a name's identifier, an attribute's
 * name, a constant's value under Python's ==, any other expression by
 * identity). Top-level functions and methods also get reports of their own
 * (nested functions count in theirs). */
#include "static/cc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- operand sets */

typedef struct operand {
    PyObject *ctx;        /* the function's name, NULL at module level */
    PyObject *obj;        /* a value compared with ==, or NULL */
    const void *node;     /* an expression compared by identity */
    Py_hash_t hash;
} operand_t;

typedef struct acc {
    uint64_t ops;         /* operators seen: a bit each */
    long N1, N2;
    operand_t *set;
    size_t cap, n;
    int oom;
} acc_t;

static int same_ctx(PyObject *a, PyObject *b) {
    if (a == b)
        return 1;
    if (!a || !b)
        return 0;
    int r = PyObject_RichCompareBool(a, b, Py_EQ);
    if (r < 0)
        PyErr_Clear();
    return r == 1;
}

static int same(const operand_t *a, const operand_t *b) {
    if (a->hash != b->hash || !same_ctx(a->ctx, b->ctx))
        return 0;
    if (!a->obj || !b->obj)
        return !a->obj && !b->obj && a->node == b->node;
    int r = a->obj == b->obj ? 1 : PyObject_RichCompareBool(a->obj, b->obj, Py_EQ);
    if (r < 0)
        PyErr_Clear();
    return r == 1;
}

static void set_add(acc_t *a, operand_t o) {
    if (2 * (a->n + 1) > a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 64;
        operand_t *ns = calloc(cap, sizeof *ns);
        if (!ns) {
            a->oom = 1;
            return;
        }
        for (size_t i = 0; i < a->cap; i++) {
            if (!a->set[i].obj && !a->set[i].node)
                continue;
            size_t k = (size_t)a->set[i].hash & (cap - 1);
            while (ns[k].obj || ns[k].node)
                k = (k + 1) & (cap - 1);
            ns[k] = a->set[i];
        }
        free(a->set);
        a->set = ns;
        a->cap = cap;
    }
    size_t k = (size_t)o.hash & (a->cap - 1);
    for (; a->set[k].obj || a->set[k].node; k = (k + 1) & (a->cap - 1))
        if (same(&a->set[k], &o))
            return;
    a->set[k] = o;
    a->n++;
}

/* The operand an expression stands for. */
static operand_t operand_of(expr_ty e, PyObject *ctx) {
    operand_t o = {ctx, NULL, NULL, 0};
    switch (e->kind) {
    case Name_kind: o.obj = e->v.Name.id; break;
    case Attribute_kind: o.obj = e->v.Attribute.attr; break;
    case Constant_kind: o.obj = e->v.Constant.value; break;
    default: o.node = e; break;
    }
    Py_hash_t h = 0;
    if (o.obj && (h = PyObject_Hash(o.obj)) == -1) {
        PyErr_Clear();
        o.node = o.obj; /* unhashable: by identity */
        o.obj = NULL;
    }
    if (!o.obj)
        h = (Py_hash_t)((uintptr_t)o.node >> 4);
    Py_hash_t hc = ctx ? PyObject_Hash(ctx) : 0;
    if (hc == -1) {
        PyErr_Clear();
        hc = 0;
    }
    o.hash = (Py_hash_t)((uint64_t)h ^ ((uint64_t)hc * 1000003u)); /* unsigned: wraps */
    return o;
}

/* ---------------------------------------------------------------- the visitor */

/* operators by name: binary (13), unary (4), boolean (2), comparisons (10) */
#define OP_BIN(k) ((unsigned)(k) - 1)
#define OP_UNARY(k) (13u + (unsigned)(k) - 1)
#define OP_BOOL(k) (17u + (unsigned)(k) - 1)
#define OP_CMP(k) (19u + (unsigned)(k) - 1)

typedef struct hv {
    acc_t *accs[2];       /* the file's, and the tracked function's (or NULL) */
    PyObject *ctx;
    omni_hal_t *out;
    acc_t *fn_accs;       /* one per tracked function, parallel to out->fns */
    size_t n_fn_accs;
    int oom;
} hv_t;

static void count(hv_t *v, unsigned op_bit, long n1, long n2) {
    for (int i = 0; i < 2; i++)
        if (v->accs[i]) {
            v->accs[i]->ops |= 1ull << op_bit;
            v->accs[i]->N1 += n1;
            v->accs[i]->N2 += n2;
        }
}

static void operand(hv_t *v, expr_ty e) {
    operand_t o = operand_of(e, v->ctx);
    for (int i = 0; i < 2; i++)
        if (v->accs[i])
            set_add(v->accs[i], o);
}

static void visit(void *ctx, omni_node_t n);

static int track_function(hv_t *v, stmt_ty s, PyObject *name) {
    omni_hal_t *h = v->out;
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 8;
        omni_hal_fn_t *nf = realloc(h->fns, cap * sizeof *nf);
        acc_t *na = realloc(v->fn_accs, cap * sizeof *na);
        if (nf)
            h->fns = nf;
        if (na)
            v->fn_accs = na;
        if (!nf || !na)
            return -1;
        h->cap = cap;
    }
    const char *s8 = PyUnicode_AsUTF8(name);
    if (!s8)
        PyErr_Clear();
    h->fns[h->n] = (omni_hal_fn_t){strdup(s8 ? s8 : "?"), s->lineno, {0}};
    memset(&v->fn_accs[h->n], 0, sizeof v->fn_accs[0]);
    h->n++;
    v->n_fn_accs = h->n;
    return 0;
}

/* visit_FunctionDef: the body only (not the arguments or decorators), in
 * the function's context; a function the file's visitor meets directly gets
 * a report of its own. */
static void visit_function(hv_t *v, stmt_ty s, PyObject *name, asdl_stmt_seq *body) {
    acc_t *saved_fn = v->accs[1];
    PyObject *saved_ctx = v->ctx;
    size_t idx = (size_t)-1;
    if (!saved_fn) {
        if (track_function(v, s, name) < 0) {
            v->oom = 1;
            return;
        }
        idx = v->out->n - 1;
        v->accs[1] = &v->fn_accs[idx];
    }
    v->ctx = name;
    for (Py_ssize_t i = 0; i < asdl_seq_LEN(body); i++)
        visit(v, omni_stmt_node(asdl_seq_GET(body, i)));
    v->ctx = saved_ctx;
    v->accs[1] = saved_fn;
}

static void visit(void *ctx, omni_node_t n) {
    hv_t *v = ctx;
    if (n.k == OMNI_N_STMT) {
        stmt_ty s = (stmt_ty)n.p;
        if (s->kind == FunctionDef_kind) {
            visit_function(v, s, s->v.FunctionDef.name, s->v.FunctionDef.body);
            return;
        }
        if (s->kind == AsyncFunctionDef_kind) {
            visit_function(v, s, s->v.AsyncFunctionDef.name, s->v.AsyncFunctionDef.body);
            return;
        }
        if (s->kind == AugAssign_kind) {
            count(v, OP_BIN(s->v.AugAssign.op), 1, 2);
            operand(v, s->v.AugAssign.target);
            operand(v, s->v.AugAssign.value);
        }
    } else if (n.k == OMNI_N_EXPR) {
        expr_ty e = (expr_ty)n.p;
        switch (e->kind) {
        case BinOp_kind:
            count(v, OP_BIN(e->v.BinOp.op), 1, 2);
            operand(v, e->v.BinOp.left);
            operand(v, e->v.BinOp.right);
            break;
        case UnaryOp_kind:
            count(v, OP_UNARY(e->v.UnaryOp.op), 1, 1);
            operand(v, e->v.UnaryOp.operand);
            break;
        case BoolOp_kind: {
            Py_ssize_t k = asdl_seq_LEN(e->v.BoolOp.values);
            count(v, OP_BOOL(e->v.BoolOp.op), 1, (long)k);
            for (Py_ssize_t i = 0; i < k; i++)
                operand(v, asdl_seq_GET(e->v.BoolOp.values, i));
            break;
        }
        case Compare_kind: {
            Py_ssize_t k = asdl_seq_LEN(e->v.Compare.ops);
            for (Py_ssize_t i = 0; i < k; i++)
                count(v, OP_CMP(asdl_seq_GET(e->v.Compare.ops, i)), 1, 0);
            for (int a = 0; a < 2; a++)
                if (v->accs[a])
                    v->accs[a]->N2 += asdl_seq_LEN(e->v.Compare.comparators) + 1;
            for (Py_ssize_t i = 0; i < asdl_seq_LEN(e->v.Compare.comparators); i++)
                operand(v, asdl_seq_GET(e->v.Compare.comparators, i));
            operand(v, e->v.Compare.left);
            break;
        }
        default:
            break;
        }
    }
    omni_ast_children(n, visit, v);
}

static void report(const acc_t *a, omni_halstead_t *h) {
    long h1 = __builtin_popcountll(a->ops), h2 = (long)a->n;
    long N1 = a->N1, N2 = a->N2, hh = h1 + h2, N = N1 + N2;
    h->h1 = h1, h->h2 = h2, h->N1 = N1, h->N2 = N2, h->vocabulary = hh, h->length = N;
    /* as Python's math.log(x, 2): log(x) / log(2) */
    h->calculated_length = h1 && h2 ? h1 * (log((double)h1) / log(2.0)) +
                                          h2 * (log((double)h2) / log(2.0))
                                    : 0;
    h->volume = hh ? N * (log((double)hh) / log(2.0)) : 0;
    h->difficulty = h2 ? (double)(h1 * N2) / (double)(2 * h2) : 0;
    h->effort = h->difficulty * h->volume;
    h->time = h->effort / 18.0;
    h->bugs = h->volume / 3000.0;
}

int omni_hal_visit(mod_ty mod, omni_hal_t *out) {
    memset(out, 0, sizeof *out);
    acc_t file = {0};
    hv_t v = {{&file, NULL}, NULL, out, NULL, 0, 0};
    visit(&v, (omni_node_t){OMNI_N_MOD, mod});
    int oom = v.oom || file.oom;
    report(&file, &out->total);
    for (size_t i = 0; i < v.n_fn_accs; i++) {
        oom |= v.fn_accs[i].oom || !out->fns[i].name;
        report(&v.fn_accs[i], &out->fns[i].h);
        free(v.fn_accs[i].set);
    }
    free(v.fn_accs);
    free(file.set);
    if (oom) {
        omni_hal_free(out);
        return -1;
    }
    return 0;
}

void omni_hal_free(omni_hal_t *h) {
    for (size_t i = 0; i < h->n; i++)
        free(h->fns[i].name);
    free(h->fns);
    memset(h, 0, sizeof *h);
}

double omni_mi_compute(double volume, long complexity, long sloc, double comments_pct) {
    if (volume <= 0 || sloc <= 0)
        return 100.0;
    double sloc_scale = log((double)sloc);
    double volume_scale = log(volume);
    double comments_scale = sqrt(2.46 * (comments_pct * (M_PI / 180.0)));
    double nn = 171 - 5.2 * volume_scale - 0.23 * (double)complexity - 16.2 * sloc_scale +
                50 * sin(comments_scale);
    double mi = nn * 100 / 171.0;
    return mi < 0 ? 0.0 : mi > 100 ? 100.0 : mi;
}

char omni_mi_rank(double mi) {
    return (char)('A' + (9 - mi >= 0) + (19 - mi >= 0));
}
