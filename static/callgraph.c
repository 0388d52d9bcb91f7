/* callgraph.c - the static call graph: facts per file, resolution across
 * the tree. */
#include "static/callgraph.h"

/* Qualified and dotted names longer than NAME_MAX_LEN are cut, on purpose:
 * such a name resolves to nothing, which is counted as unresolved. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#include "runtime/session/mp_get.h"
#include "runtime/session/writer.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- facts (worker side) */

#define NAME_MAX_LEN 512

typedef struct vec {
    char **s;      /* flattened rows of strings */
    int *line;
    size_t n, cap;
    int width;     /* strings per row */
} vec_t;

typedef struct facts {
    vec_t defs;    /* qualname, kind */
    vec_t imports; /* local name, module, attribute ("" when none), level ("top": import a.b
                      binds a) */
    vec_t calls;   /* caller qualname, callee (a dotted name) */
    uint64_t other_calls;
    char scope[NAME_MAX_LEN];   /* the qualified name of the current scope ("" = module) */
    int scope_is_function, scope_is_class;
    int oom;
} facts_t;

static void vec_add(facts_t *f, vec_t *v, const char *const *row, int line) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 64;
        char **ns = realloc(v->s, cap * (size_t)v->width * sizeof *ns);
        int *nl = realloc(v->line, cap * sizeof *nl);
        if (ns)
            v->s = ns;
        if (nl)
            v->line = nl;
        if (!ns || !nl) {
            f->oom = 1;
            return;
        }
        v->cap = cap;
    }
    for (int k = 0; k < v->width; k++)
        if (!(v->s[v->n * (size_t)v->width + (size_t)k] = strdup(row[k] ? row[k] : "")))
            f->oom = 1;
    v->line[v->n++] = line;
}

static void vec_free(vec_t *v) {
    for (size_t i = 0; i < v->n * (size_t)v->width; i++)
        free(v->s[i]);
    free(v->s);
    free(v->line);
}

static const char *utf8(PyObject *o) {
    const char *s = o ? PyUnicode_AsUTF8(o) : NULL;
    if (!s)
        PyErr_Clear();
    return s ? s : "";
}

/* A callee as a dotted name (f, self.m, mod.f, a.b.c), or 0. */
static int dotted(expr_ty e, char *out, size_t cap) {
    if (e->kind == Name_kind) {
        snprintf(out, cap, "%s", utf8(e->v.Name.id));
        return 1;
    }
    if (e->kind == Attribute_kind) {
        char base[NAME_MAX_LEN];
        if (!dotted(e->v.Attribute.value, base, sizeof base))
            return 0;
        snprintf(out, cap, "%s.%s", base, utf8(e->v.Attribute.attr));
        return 1;
    }
    return 0;
}

static void visit_facts(void *ctx, omni_node_t n);

/* A def's body in its own scope: name.<locals>. for a function, name. for a
 * class (Python's qualified names). */
static void in_scope(facts_t *f, const char *qualname, int is_function, asdl_stmt_seq *body) {
    char saved[NAME_MAX_LEN];
    int sf = f->scope_is_function, sc = f->scope_is_class;
    memcpy(saved, f->scope, sizeof saved);
    snprintf(f->scope, sizeof f->scope, "%s", qualname);
    f->scope_is_function = is_function;
    f->scope_is_class = !is_function;
    for (Py_ssize_t i = 0; i < asdl_seq_LEN(body); i++)
        visit_facts(f, omni_stmt_node(asdl_seq_GET(body, i)));
    memcpy(f->scope, saved, sizeof saved);
    f->scope_is_function = sf;
    f->scope_is_class = sc;
}

static void qualify(const facts_t *f, const char *name, char *out, size_t cap) {
    if (!f->scope[0])
        snprintf(out, cap, "%s", name);
    else
        snprintf(out, cap, "%s%s%s", f->scope, f->scope_is_function ? ".<locals>." : ".", name);
}

static void def(facts_t *f, stmt_ty s, PyObject *name, arguments_ty args, asdl_expr_seq *decos,
                asdl_stmt_seq *body) {
    char q[NAME_MAX_LEN];
    qualify(f, utf8(name), q, sizeof q);
    const char *row[2] = {q, f->scope_is_class ? "method" : "function"};
    vec_add(f, &f->defs, row, s->lineno);
    /* decorators and defaults run in the enclosing scope */
    for (Py_ssize_t i = 0; i < asdl_seq_LEN(decos); i++)
        visit_facts(f, omni_expr_node(asdl_seq_GET(decos, i)));
    if (args)
        omni_ast_children((omni_node_t){OMNI_N_ARGUMENTS, args}, visit_facts, f);
    in_scope(f, q, 1, body);
}

static void visit_facts(void *ctx, omni_node_t n) {
    facts_t *f = ctx;
    if (n.k == OMNI_N_STMT) {
        stmt_ty s = (stmt_ty)n.p;
        switch (s->kind) {
        case FunctionDef_kind:
            def(f, s, s->v.FunctionDef.name, s->v.FunctionDef.args,
                s->v.FunctionDef.decorator_list, s->v.FunctionDef.body);
            return;
        case AsyncFunctionDef_kind:
            def(f, s, s->v.AsyncFunctionDef.name, s->v.AsyncFunctionDef.args,
                s->v.AsyncFunctionDef.decorator_list, s->v.AsyncFunctionDef.body);
            return;
        case ClassDef_kind: {
            char q[NAME_MAX_LEN];
            qualify(f, utf8(s->v.ClassDef.name), q, sizeof q);
            const char *row[2] = {q, "class"};
            vec_add(f, &f->defs, row, s->lineno);
            for (Py_ssize_t i = 0; i < asdl_seq_LEN(s->v.ClassDef.bases); i++)
                visit_facts(f, omni_expr_node(asdl_seq_GET(s->v.ClassDef.bases, i)));
            for (Py_ssize_t i = 0; i < asdl_seq_LEN(s->v.ClassDef.decorator_list); i++)
                visit_facts(f, omni_expr_node(asdl_seq_GET(s->v.ClassDef.decorator_list, i)));
            in_scope(f, q, 0, s->v.ClassDef.body);
            return;
        }
        case Import_kind:
            for (Py_ssize_t i = 0; i < asdl_seq_LEN(s->v.Import.names); i++) {
                alias_ty a = asdl_seq_GET(s->v.Import.names, i);
                const char *mod = utf8(a->name);
                char local[NAME_MAX_LEN];
                /* import a.b binds a; import a.b as x binds x to a.b */
                if (a->asname)
                    snprintf(local, sizeof local, "%s", utf8(a->asname));
                else
                    snprintf(local, sizeof local, "%.*s", (int)strcspn(mod, "."), mod);
                /* "top": the name binds the package at the path's head */
                const char *row[4] = {local, mod, "", a->asname ? "0" : "top"};
                vec_add(f, &f->imports, row, s->lineno);
            }
            return;
        case ImportFrom_kind: {
            char level[16];
            snprintf(level, sizeof level, "%d", s->v.ImportFrom.level);
            const char *mod = s->v.ImportFrom.module ? utf8(s->v.ImportFrom.module) : "";
            for (Py_ssize_t i = 0; i < asdl_seq_LEN(s->v.ImportFrom.names); i++) {
                alias_ty a = asdl_seq_GET(s->v.ImportFrom.names, i);
                const char *name = utf8(a->name);
                const char *row[4] = {a->asname ? utf8(a->asname) : name, mod, name, level};
                vec_add(f, &f->imports, row, s->lineno);
            }
            return;
        }
        default:
            break;
        }
    } else if (n.k == OMNI_N_EXPR && ((expr_ty)n.p)->kind == Call_kind) {
        expr_ty e = (expr_ty)n.p;
        char callee[NAME_MAX_LEN];
        if (dotted(e->v.Call.func, callee, sizeof callee)) {
            const char *row[2] = {f->scope, callee};
            vec_add(f, &f->calls, row, e->lineno);
        } else {
            f->other_calls++;
        }
    }
    omni_ast_children(n, visit_facts, f);
}

static void pack_rows(msgpack_packer *pk, const char *key, const vec_t *v) {
    omni_pack_str(pk, key);
    msgpack_pack_array(pk, (uint32_t)v->n);
    for (size_t i = 0; i < v->n; i++) {
        msgpack_pack_array(pk, (uint32_t)v->width + 1);
        for (int k = 0; k < v->width; k++)
            omni_pack_str(pk, v->s[i * (size_t)v->width + (size_t)k]);
        msgpack_pack_int(pk, v->line[i]);
    }
}

void omni_cg_facts(mod_ty mod, msgpack_packer *pk) {
    facts_t f = {.defs.width = 2, .imports.width = 4, .calls.width = 2};
    visit_facts(&f, (omni_node_t){OMNI_N_MOD, mod});
    if (f.oom) {
        msgpack_pack_nil(pk);
    } else {
        msgpack_pack_map(pk, 4);
        pack_rows(pk, "defs", &f.defs);
        pack_rows(pk, "imports", &f.imports);
        pack_rows(pk, "calls", &f.calls);
        omni_pack_str(pk, "other_calls");
        msgpack_pack_uint64(pk, f.other_calls);
    }
    vec_free(&f.defs);
    vec_free(&f.imports);
    vec_free(&f.calls);
}

/* ---------------------------------------------------------------- the graph (parent side) */

typedef struct node {
    char *id;          /* module:qualname */
    char *module, *qualname, *path, *kind;
    int line;
} node_t;

typedef struct edge {
    size_t from, to;
    char kind;         /* 'c' call, 'i' instantiation, 'd' seen at run time only */
    int line;
    uint64_t count, run_calls;
    int seen;
} edge_t;

typedef struct module {
    char *name, *path;
    int is_package;
    const msgpack_object *cg;   /* the file's facts */
} module_t;

typedef struct mod_edge {
    size_t from, to;     /* indexes into mods */
    int line;
} mod_edge_t;

struct omni_cg {
    mod_edge_t *mod_edges;   /* module -> module it imports, once per pair */
    size_t n_mod_edges, cap_mod_edges;
    node_t *nodes;
    size_t n_nodes, cap_nodes;
    edge_t *edges;           /* the static ones sorted and merged, then those seen only in a run */
    size_t n_edges, cap_edges, n_static;
    module_t *mods;
    size_t n_mods;
    msgpack_unpacked *u;        /* one per file, kept while the graph lives */
    size_t n_u;
    uint64_t calls, resolved;
    int oom;
};

static int node_cmp(const void *a, const void *b) {
    return strcmp(((const node_t *)a)->id, ((const node_t *)b)->id);
}

static int mod_cmp(const void *a, const void *b) {
    return strcmp(((const module_t *)a)->name, ((const module_t *)b)->name);
}

static long find_node(const omni_cg_t *g, const char *module, const char *qualname) {
    char id[2 * NAME_MAX_LEN];
    snprintf(id, sizeof id, "%s:%s", module, qualname);
    size_t lo = 0, hi = g->n_nodes;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(g->nodes[mid].id, id);
        if (!c)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static const module_t *find_module(const omni_cg_t *g, const char *name) {
    module_t key = {(char *)name, NULL, 0, NULL};
    return g->n_mods ? bsearch(&key, g->mods, g->n_mods, sizeof key, mod_cmp) : NULL;
}

/* A module of the tree by an import's name; a tree laid out under src/ (or
 * any folder not on the import path) is found by the name's suffix. */
static const module_t *module_named(const omni_cg_t *g, const char *name) {
    const module_t *m = find_module(g, name);
    if (m || !*name)
        return m;
    size_t n = strlen(name);
    const module_t *found = NULL;
    for (size_t i = 0; i < g->n_mods; i++) {
        size_t k = strlen(g->mods[i].name);
        if (k > n && g->mods[i].name[k - n - 1] == '.' && !strcmp(g->mods[i].name + k - n, name)) {
            if (found)
                return NULL; /* ambiguous */
            found = &g->mods[i];
        }
    }
    return found;
}

static edge_t *append_edge(omni_cg_t *g, size_t from, size_t to, char kind, int line) {
    if (g->n_edges == g->cap_edges) {
        size_t cap = g->cap_edges ? 2 * g->cap_edges : 1024;
        edge_t *ne = realloc(g->edges, cap * sizeof *ne);
        if (!ne) {
            g->oom = 1;
            return NULL;
        }
        g->edges = ne;
        g->cap_edges = cap;
    }
    g->edges[g->n_edges] = (edge_t){from, to, kind, line, 1, 0, 0};
    return &g->edges[g->n_edges++];
}

/* A call site: a caller's sites come one after another, so a repeat is
 * looked for among the last few edges only (merge_edges adds up the rest). */
static void add_edge(omni_cg_t *g, size_t from, size_t to, char kind, int line) {
    for (size_t i = g->n_edges; i-- > 0 && i + 64 > g->n_edges;)
        if (g->edges[i].from == from && g->edges[i].to == to && g->edges[i].kind == kind) {
            g->edges[i].count++;
            return;
        }
    append_edge(g, from, to, kind, line);
}

/* "a.b.c" in the tree: the longest module prefix, the rest a qualified name
 * in it (empty: the module itself). */
static long resolve_dotted(const omni_cg_t *g, const char *dotted_name) {
    char buf[2 * NAME_MAX_LEN];
    snprintf(buf, sizeof buf, "%s", dotted_name);
    for (char *dot = buf + strlen(buf); dot > buf; dot--) {
        if (*dot != '.' && *dot)
            continue;
        char save = *dot;
        *dot = 0;
        const module_t *m = module_named(g, buf);
        *dot = save;
        if (m && save == '.')
            return find_node(g, m->name, dot + 1);
        if (m)
            return -1; /* calling a module */
    }
    return -1;
}

/* The string at row[k] of a facts row. */
static void cell_str(const msgpack_object *row, uint32_t k, char *out, size_t cap) {
    out[0] = 0;
    if (row->type == MSGPACK_OBJECT_ARRAY && k < row->via.array.size)
        omni_mp_str(&row->via.array.ptr[k], out, cap);
}

static int cell_int(const msgpack_object *row, uint32_t k) {
    double v = 0;
    if (row->type == MSGPACK_OBJECT_ARRAY && k < row->via.array.size)
        omni_mp_num(&row->via.array.ptr[k], &v);
    return (int)v;
}

/* An import's module, absolute (a relative import from the module's package). */
static void import_module(const module_t *m, const char *mod, int level, char *out, size_t cap) {
    if (!level) {
        snprintf(out, cap, "%s", mod);
        return;
    }
    char pkg[NAME_MAX_LEN];
    snprintf(pkg, sizeof pkg, "%s", m->name);
    if (!m->is_package) {
        char *dot = strrchr(pkg, '.');
        if (dot)
            *dot = 0;
        else
            pkg[0] = 0;
    }
    for (int l = 1; l < level; l++) {
        char *dot = strrchr(pkg, '.');
        if (dot)
            *dot = 0;
        else
            pkg[0] = 0;
    }
    snprintf(out, cap, "%s%s%s", pkg, *pkg && *mod ? "." : "", mod);
}

/* "f.<locals>.g" -> "f", "C.m" -> "C", "f" -> "". */
static void parent_scope(char *scope) {
    char *cut = strrchr(scope, '.');
    if (!cut) {
        scope[0] = 0;
        return;
    }
    *cut = 0;
    size_t n = strlen(scope);
    if (n >= 9 && !strcmp(scope + n - 9, ".<locals>"))
        scope[n - 9] = 0;
}

/* The node a call site names, or -1. */
static long resolve_call(const omni_cg_t *g, const module_t *m, const char *caller,
                         const char *callee) {
    char head[NAME_MAX_LEN], rest[NAME_MAX_LEN] = "";
    const char *dot = strchr(callee, '.');
    snprintf(head, sizeof head, "%.*s", dot ? (int)(dot - callee) : (int)strlen(callee), callee);
    if (dot)
        snprintf(rest, sizeof rest, "%s", dot + 1);
    char q[2 * NAME_MAX_LEN];
    /* self.m / cls.m: the innermost class around the caller */
    if ((!strcmp(head, "self") || !strcmp(head, "cls")) && *rest && !strchr(rest, '.')) {
        char scope[NAME_MAX_LEN];
        snprintf(scope, sizeof scope, "%s", caller);
        for (;;) {
            long k = find_node(g, m->name, scope);
            if (k >= 0 && !strcmp(g->nodes[k].kind, "class")) {
                snprintf(q, sizeof q, "%s.%s", scope, rest);
                return find_node(g, m->name, q);
            }
            if (!*scope)
                return -1;
            parent_scope(scope);
        }
    }
    /* a name of an enclosing function's, then of the module */
    char scope[NAME_MAX_LEN];
    snprintf(scope, sizeof scope, "%s", caller);
    for (;;) {
        if (*scope)
            snprintf(q, sizeof q, "%s.<locals>.%s%s%s", scope, head, *rest ? "." : "", rest);
        else
            snprintf(q, sizeof q, "%s%s%s", head, *rest ? "." : "", rest);
        long k = find_node(g, m->name, q);
        if (k >= 0)
            return k;
        if (!*scope)
            break;
        parent_scope(scope);
    }
    /* an imported name */
    const msgpack_object *imps = omni_mp_get(m->cg, "imports");
    for (uint32_t i = 0; imps && imps->type == MSGPACK_OBJECT_ARRAY && i < imps->via.array.size;
         i++) {
        const msgpack_object *row = &imps->via.array.ptr[i];
        char local[NAME_MAX_LEN], mod[NAME_MAX_LEN], attr[NAME_MAX_LEN], abs[NAME_MAX_LEN];
        cell_str(row, 0, local, sizeof local);
        if (strcmp(local, head))
            continue;
        cell_str(row, 1, mod, sizeof mod);
        cell_str(row, 2, attr, sizeof attr);
        char level[16];
        cell_str(row, 3, level, sizeof level);
        if (!strcmp(level, "top"))
            mod[strcspn(mod, ".")] = 0; /* import a.b binds a */
        import_module(m, mod, atoi(level), abs, sizeof abs);
        snprintf(q, sizeof q, "%s%s%s%s%s", abs, *attr ? "." : "", attr, *rest ? "." : "", rest);
        return resolve_dotted(g, q);
    }
    return -1;
}

static char *module_of(const char *path, int *is_package) {
    size_t n = strlen(path);
    char *m = strdup(path);
    if (!m)
        return NULL;
    if (n > 3 && !strcmp(m + n - 3, ".py"))
        m[n -= 3] = 0;
    *is_package = 0;
    if (n >= 9 && !strcmp(m + n - 9, "/__init__")) {
        m[n - 9] = 0;
        *is_package = 1;
    } else if (!strcmp(m, "__init__")) {
        m[0] = 0;
        *is_package = 1;
    }
    for (char *c = m; *c; c++)
        if (*c == '/')
            *c = '.';
    return m;
}

static int edge_cmp(const void *x, const void *y) {
    const edge_t *a = x, *b = y;
    if (a->from != b->from)
        return a->from < b->from ? -1 : 1;
    if (a->to != b->to)
        return a->to < b->to ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind - b->kind;
    return a->line - b->line;
}

/* One edge per (caller, callee, kind): call sites added up. */
static void merge_edges(omni_cg_t *g) {
    if (!g->n_edges)
        return;
    qsort(g->edges, g->n_edges, sizeof *g->edges, edge_cmp);
    size_t m = 0;
    for (size_t i = 0; i < g->n_edges; i++) {
        if (m && g->edges[m - 1].from == g->edges[i].from && g->edges[m - 1].to == g->edges[i].to &&
            g->edges[m - 1].kind == g->edges[i].kind)
            g->edges[m - 1].count += g->edges[i].count;
        else
            g->edges[m++] = g->edges[i];
    }
    g->n_edges = m;
}

/* The module-level graph: a module imports another of the tree. */
static void module_edges(omni_cg_t *g) {
    for (size_t i = 0; i < g->n_mods; i++) {
        const module_t *m = &g->mods[i];
        const msgpack_object *imps = omni_mp_get(m->cg, "imports");
        for (uint32_t k = 0; imps && imps->type == MSGPACK_OBJECT_ARRAY && k < imps->via.array.size;
             k++) {
            const msgpack_object *row = &imps->via.array.ptr[k];
            char mod[NAME_MAX_LEN], attr[NAME_MAX_LEN], level[16], abs[NAME_MAX_LEN],
                sub[2 * NAME_MAX_LEN];
            cell_str(row, 1, mod, sizeof mod);
            cell_str(row, 2, attr, sizeof attr);
            cell_str(row, 3, level, sizeof level);
            import_module(m, mod, atoi(level), abs, sizeof abs);
            /* from pkg import sub: the submodule when there is one, else pkg */
            snprintf(sub, sizeof sub, "%s%s%s", abs, *abs && *attr ? "." : "", attr);
            const module_t *t = *attr ? module_named(g, sub) : NULL;
            if (!t)
                t = module_named(g, abs);
            if (!t || t == m)
                continue;
            size_t to = (size_t)(t - g->mods), e = 0;
            while (e < g->n_mod_edges && !(g->mod_edges[e].from == i && g->mod_edges[e].to == to))
                e++;
            if (e < g->n_mod_edges)
                continue;
            if (g->n_mod_edges == g->cap_mod_edges) {
                size_t cap = g->cap_mod_edges ? 2 * g->cap_mod_edges : 256;
                mod_edge_t *ne = realloc(g->mod_edges, cap * sizeof *ne);
                if (!ne)
                    return;
                g->mod_edges = ne;
                g->cap_mod_edges = cap;
            }
            g->mod_edges[g->n_mod_edges++] = (mod_edge_t){i, to, cell_int(row, 4)};
        }
    }
}

omni_cg_t *omni_cg_build(const char *const *data, const uint32_t *size, size_t n) {
    omni_cg_t *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->u = calloc(n + 1, sizeof *g->u);
    g->n_u = n;
    g->mods = calloc(n + 1, sizeof *g->mods);
    if (!g->u || !g->mods) {
        omni_cg_free(g);
        return NULL;
    }
    /* the modules, and every definition as a node */
    for (size_t i = 0; i < n; i++) {
        msgpack_unpacked_init(&g->u[i]);
        if (!data[i] || msgpack_unpack_next(&g->u[i], data[i], size[i], NULL) != MSGPACK_UNPACK_SUCCESS)
            continue;
        const msgpack_object *cg = omni_mp_get(&g->u[i].data, "callgraph");
        if (!cg || cg->type != MSGPACK_OBJECT_MAP)
            continue;
        char path[NAME_MAX_LEN];
        path[0] = 0;
        omni_mp_str(omni_mp_get(&g->u[i].data, "path"), path, sizeof path);
        module_t *m = &g->mods[g->n_mods];
        m->name = module_of(path, &m->is_package);
        m->path = strdup(path);
        m->cg = cg;
        if (!m->name || !m->path) {
            g->oom = 1;
            break;
        }
        g->n_mods++;
        const msgpack_object *defs = omni_mp_get(cg, "defs");
        for (uint32_t k = 0; defs && defs->type == MSGPACK_OBJECT_ARRAY && k < defs->via.array.size;
             k++) {
            const msgpack_object *row = &defs->via.array.ptr[k];
            char q[NAME_MAX_LEN], kind[16], id[2 * NAME_MAX_LEN];
            cell_str(row, 0, q, sizeof q);
            cell_str(row, 1, kind, sizeof kind);
            if (g->n_nodes == g->cap_nodes) {
                size_t cap = g->cap_nodes ? 2 * g->cap_nodes : 1024;
                node_t *nn = realloc(g->nodes, cap * sizeof *nn);
                if (!nn) {
                    g->oom = 1;
                    break;
                }
                g->nodes = nn;
                g->cap_nodes = cap;
            }
            snprintf(id, sizeof id, "%s:%s", m->name, q);
            g->nodes[g->n_nodes++] = (node_t){strdup(id), strdup(m->name), strdup(q),
                                              strdup(path), strdup(kind), cell_int(row, 2)};
        }
    }
    if (g->oom) {
        omni_cg_free(g);
        return NULL;
    }
    if (g->n_nodes)
        qsort(g->nodes, g->n_nodes, sizeof *g->nodes, node_cmp);
    if (g->n_mods)
        qsort(g->mods, g->n_mods, sizeof *g->mods, mod_cmp);
    /* the edges */
    for (size_t i = 0; i < g->n_mods; i++) {
        const module_t *m = &g->mods[i];
        double other = 0;
        omni_mp_num(omni_mp_get(m->cg, "other_calls"), &other);
        g->calls += (uint64_t)other;
        const msgpack_object *calls = omni_mp_get(m->cg, "calls");
        for (uint32_t k = 0; calls && calls->type == MSGPACK_OBJECT_ARRAY &&
                             k < calls->via.array.size; k++) {
            const msgpack_object *row = &calls->via.array.ptr[k];
            char caller[NAME_MAX_LEN], callee[NAME_MAX_LEN];
            cell_str(row, 0, caller, sizeof caller);
            cell_str(row, 1, callee, sizeof callee);
            g->calls++;
            long to = resolve_call(g, m, caller, callee);
            long from = *caller ? find_node(g, m->name, caller) : -1;
            if (to < 0)
                continue;
            g->resolved++;
            if (from < 0)
                continue; /* a call at module level: no function node makes it */
            int line = cell_int(row, 2);
            if (!strcmp(g->nodes[to].kind, "class")) {
                add_edge(g, (size_t)from, (size_t)to, 'i', line);
                char init[2 * NAME_MAX_LEN];
                snprintf(init, sizeof init, "%s.__init__", g->nodes[to].qualname);
                long k2 = find_node(g, g->nodes[to].module, init);
                if (k2 >= 0)
                    add_edge(g, (size_t)from, (size_t)k2, 'c', line);
            } else {
                add_edge(g, (size_t)from, (size_t)to, 'c', line);
            }
        }
    }
    merge_edges(g);
    g->n_static = g->n_edges;
    module_edges(g);
    return g;
}

void omni_cg_free(omni_cg_t *g) {
    if (!g)
        return;
    for (size_t i = 0; i < g->n_nodes; i++) {
        node_t *n = &g->nodes[i];
        free(n->id), free(n->module), free(n->qualname), free(n->path), free(n->kind);
    }
    free(g->nodes);
    free(g->edges);
    free(g->mod_edges);
    for (size_t i = 0; g->mods && i < g->n_mods; i++)
        free(g->mods[i].name), free(g->mods[i].path);
    free(g->mods);
    for (size_t i = 0; g->u && i < g->n_u; i++)
        msgpack_unpacked_destroy(&g->u[i]);
    free(g->u);
    free(g);
}

static long node_at(const omni_cg_t *g, const char *path, const char *qualname) {
    int pkg;
    char *m = module_of(path, &pkg);
    long k = m ? find_node(g, m, qualname) : -1;
    free(m);
    return k;
}

/* The edge from -> to: the first static one (a call before an
 * instantiation), else one a run added. */
static edge_t *edge_between(omni_cg_t *g, size_t from, size_t to) {
    size_t lo = 0, hi = g->n_static;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const edge_t *e = &g->edges[mid];
        if (e->from < from || (e->from == from && e->to < to))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < g->n_static && g->edges[lo].from == from && g->edges[lo].to == to)
        return &g->edges[lo];
    for (size_t i = g->n_static; i < g->n_edges; i++)
        if (g->edges[i].from == from && g->edges[i].to == to)
            return &g->edges[i];
    return NULL;
}

void omni_cg_seen(omni_cg_t *g, const char *caller_path, const char *caller_qualname,
                  const char *callee_path, const char *callee_qualname, uint64_t calls) {
    long from = node_at(g, caller_path, caller_qualname);
    long to = node_at(g, callee_path, callee_qualname);
    if (from < 0 || to < 0)
        return;
    edge_t *e = edge_between(g, (size_t)from, (size_t)to);
    if (!e)
        e = append_edge(g, (size_t)from, (size_t)to, 'd', 0);
    if (e) {
        e->seen = 1;
        e->run_calls += calls;
    }
}

void omni_cg_totals(const omni_cg_t *g, size_t *nodes, size_t *edges, uint64_t *calls,
                    uint64_t *resolved) {
    *nodes = g->n_nodes;
    *edges = g->n_edges;
    *calls = g->calls;
    *resolved = g->resolved;
}

void omni_cg_json(const omni_cg_t *g, omni_json_t *j) {
    omni_json_key(j, "callgraph");
    omni_json_begin_object(j);
    omni_json_kv_uint(j, "calls", g->calls);
    omni_json_kv_uint(j, "resolved", g->resolved);
    omni_json_kv_uint(j, "unresolved", g->calls - g->resolved);
    omni_json_key(j, "nodes");
    omni_json_begin_array(j);
    for (size_t i = 0; i < g->n_nodes; i++) {
        const node_t *n = &g->nodes[i];
        omni_json_begin_object(j);
        omni_json_kv_str(j, "id", n->id);
        omni_json_kv_str(j, "kind", n->kind);
        omni_json_kv_str(j, "path", n->path);
        omni_json_kv_int(j, "line", n->line);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
    omni_json_key(j, "edges");
    omni_json_begin_array(j);
    for (size_t i = 0; i < g->n_edges; i++) {
        const edge_t *e = &g->edges[i];
        omni_json_begin_object(j);
        omni_json_kv_str(j, "from", g->nodes[e->from].id);
        omni_json_kv_str(j, "to", g->nodes[e->to].id);
        omni_json_kv_str(j, "kind",
            e->kind == 'i' ? "instantiate" : e->kind == 'd' ? "runtime_only" : "call");
        omni_json_kv_int(j, "line", e->line);
        omni_json_kv_uint(j, "sites", e->kind == 'd' ? 0 : e->count);
        omni_json_kv_bool(j, "seen", e->seen);
        omni_json_kv_uint(j, "run_calls", e->run_calls);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
    omni_json_key(j, "module_edges");
    omni_json_begin_array(j);
    for (size_t i = 0; i < g->n_mod_edges; i++) {
        const mod_edge_t *e = &g->mod_edges[i];
        omni_json_begin_object(j);
        omni_json_kv_str(j, "from", g->mods[e->from].name);
        omni_json_kv_str(j, "to", g->mods[e->to].name);
        omni_json_kv_int(j, "line", e->line);
        omni_json_end_object(j);
    }
    omni_json_end_array(j);
    omni_json_end_object(j);
}

/* DOT: a cluster per module; calls seen at run time bold, calls only seen
 * at run time dashed red, instantiations dotted. */
int omni_cg_dot(const omni_cg_t *g, FILE *f) {
    fprintf(f, "digraph callgraph {\n  rankdir=LR;\n  node [shape=box, fontsize=10];\n");
    for (size_t m = 0; m < g->n_mods; m++) {
        fprintf(f, "  subgraph \"cluster_%s\" {\n    label=\"%s\";\n", g->mods[m].name,
                g->mods[m].name);
        for (size_t i = 0; i < g->n_nodes; i++)
            if (!strcmp(g->nodes[i].module, g->mods[m].name))
                fprintf(f, "    n%zu [label=\"%s\"%s];\n", i, g->nodes[i].qualname,
                        !strcmp(g->nodes[i].kind, "class") ? ", shape=ellipse" : "");
        fprintf(f, "  }\n");
    }
    for (size_t i = 0; i < g->n_edges; i++) {
        const edge_t *e = &g->edges[i];
        fprintf(f, "  n%zu -> n%zu [%s];\n", e->from, e->to,
                e->kind == 'd'   ? "style=dashed, color=red"
                : e->kind == 'i' ? "style=dotted"
                : e->seen        ? "penwidth=2"
                                 : "color=gray");
    }
    fprintf(f, "}\n");
    return ferror(f) ? -1 : 0;
}
