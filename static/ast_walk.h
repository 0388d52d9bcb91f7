/* ast_walk.h - CPython's own syntax tree (the parser's C structures, no
 * Python objects for the nodes) as generic nodes with their children in the
 * order of the ast module's fields, as ast.NodeVisitor visits them. */
#ifndef OMNI_AST_WALK_H
#define OMNI_AST_WALK_H

#ifndef Py_BUILD_CORE
#define Py_BUILD_CORE 1
#endif
#include <Python.h>
#include <internal/pycore_ast.h>

typedef enum omni_nkind {
    OMNI_N_MOD, OMNI_N_STMT, OMNI_N_EXPR, OMNI_N_COMPREHENSION, OMNI_N_HANDLER,
    OMNI_N_ARGUMENTS, OMNI_N_ARG, OMNI_N_KEYWORD, OMNI_N_ALIAS, OMNI_N_WITHITEM,
    OMNI_N_MATCH_CASE, OMNI_N_PATTERN, OMNI_N_TYPE_PARAM
} omni_nkind_t;

typedef struct omni_node {
    omni_nkind_t k;
    const void *p;
} omni_node_t;

typedef void (*omni_visit_fn)(void *ctx, omni_node_t child);

/* Calls fn for every child node of n (NULL optional fields skipped). */
void omni_ast_children(omni_node_t n, omni_visit_fn fn, void *ctx);

/* The node's line, for nodes that have one (as hasattr(node, 'lineno')):
 * returns 1 and sets *line, else 0. */
int omni_ast_lineno(omni_node_t n, int *line);

static inline omni_node_t omni_stmt_node(stmt_ty s) {
    return (omni_node_t){OMNI_N_STMT, s};
}
static inline omni_node_t omni_expr_node(expr_ty e) {
    return (omni_node_t){OMNI_N_EXPR, e};
}

#endif
