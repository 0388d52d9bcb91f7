/* ast_walk.c - the children of every kind of node of CPython's syntax tree,
 * in the ast module's field order. */
#include "static/ast_walk.h"

#define SEQ(kind, seq)                                                          \
    do {                                                                        \
        for (Py_ssize_t _i = 0; _i < asdl_seq_LEN(seq); _i++) {                 \
            const void *_c = asdl_seq_GET_UNTYPED((asdl_seq *)(seq), _i);       \
            if (_c)                                                             \
                fn(ctx, (omni_node_t){kind, _c});                               \
        }                                                                       \
    } while (0)
#define ONE(kind, x)                                                            \
    do {                                                                        \
        if (x)                                                                  \
            fn(ctx, (omni_node_t){kind, (x)});                                  \
    } while (0)
#define STMTS(seq) SEQ(OMNI_N_STMT, seq)
#define EXPRS(seq) SEQ(OMNI_N_EXPR, seq)
#define EXPR(x) ONE(OMNI_N_EXPR, x)

static void stmt_children(stmt_ty s, omni_visit_fn fn, void *ctx) {
    switch (s->kind) {
    case FunctionDef_kind:
#if PY_VERSION_HEX >= 0x030C0000
        SEQ(OMNI_N_TYPE_PARAM, s->v.FunctionDef.type_params);
#endif
        ONE(OMNI_N_ARGUMENTS, s->v.FunctionDef.args);
        STMTS(s->v.FunctionDef.body);
        EXPRS(s->v.FunctionDef.decorator_list);
        EXPR(s->v.FunctionDef.returns);
        break;
    case AsyncFunctionDef_kind:
#if PY_VERSION_HEX >= 0x030C0000
        SEQ(OMNI_N_TYPE_PARAM, s->v.AsyncFunctionDef.type_params);
#endif
        ONE(OMNI_N_ARGUMENTS, s->v.AsyncFunctionDef.args);
        STMTS(s->v.AsyncFunctionDef.body);
        EXPRS(s->v.AsyncFunctionDef.decorator_list);
        EXPR(s->v.AsyncFunctionDef.returns);
        break;
    case ClassDef_kind:
#if PY_VERSION_HEX >= 0x030C0000
        SEQ(OMNI_N_TYPE_PARAM, s->v.ClassDef.type_params);
#endif
        EXPRS(s->v.ClassDef.bases);
        SEQ(OMNI_N_KEYWORD, s->v.ClassDef.keywords);
        STMTS(s->v.ClassDef.body);
        EXPRS(s->v.ClassDef.decorator_list);
        break;
    case Return_kind: EXPR(s->v.Return.value); break;
    case Delete_kind: EXPRS(s->v.Delete.targets); break;
    case Assign_kind:
        EXPRS(s->v.Assign.targets);
        EXPR(s->v.Assign.value);
        break;
    case AugAssign_kind:
        EXPR(s->v.AugAssign.target);
        EXPR(s->v.AugAssign.value);
        break;
    case AnnAssign_kind:
        EXPR(s->v.AnnAssign.target);
        EXPR(s->v.AnnAssign.annotation);
        EXPR(s->v.AnnAssign.value);
        break;
    case For_kind:
        EXPR(s->v.For.target);
        EXPR(s->v.For.iter);
        STMTS(s->v.For.body);
        STMTS(s->v.For.orelse);
        break;
    case AsyncFor_kind:
        EXPR(s->v.AsyncFor.target);
        EXPR(s->v.AsyncFor.iter);
        STMTS(s->v.AsyncFor.body);
        STMTS(s->v.AsyncFor.orelse);
        break;
    case While_kind:
        EXPR(s->v.While.test);
        STMTS(s->v.While.body);
        STMTS(s->v.While.orelse);
        break;
    case If_kind:
        EXPR(s->v.If.test);
        STMTS(s->v.If.body);
        STMTS(s->v.If.orelse);
        break;
    case With_kind:
        SEQ(OMNI_N_WITHITEM, s->v.With.items);
        STMTS(s->v.With.body);
        break;
    case AsyncWith_kind:
        SEQ(OMNI_N_WITHITEM, s->v.AsyncWith.items);
        STMTS(s->v.AsyncWith.body);
        break;
    case Match_kind:
        EXPR(s->v.Match.subject);
        SEQ(OMNI_N_MATCH_CASE, s->v.Match.cases);
        break;
    case Raise_kind:
        EXPR(s->v.Raise.exc);
        EXPR(s->v.Raise.cause);
        break;
    case Try_kind:
        STMTS(s->v.Try.body);
        SEQ(OMNI_N_HANDLER, s->v.Try.handlers);
        STMTS(s->v.Try.orelse);
        STMTS(s->v.Try.finalbody);
        break;
    case TryStar_kind:
        STMTS(s->v.TryStar.body);
        SEQ(OMNI_N_HANDLER, s->v.TryStar.handlers);
        STMTS(s->v.TryStar.orelse);
        STMTS(s->v.TryStar.finalbody);
        break;
    case Assert_kind:
        EXPR(s->v.Assert.test);
        EXPR(s->v.Assert.msg);
        break;
    case Import_kind: SEQ(OMNI_N_ALIAS, s->v.Import.names); break;
    case ImportFrom_kind: SEQ(OMNI_N_ALIAS, s->v.ImportFrom.names); break;
    case Expr_kind: EXPR(s->v.Expr.value); break;
#if PY_VERSION_HEX >= 0x030C0000
    case TypeAlias_kind:
        EXPR(s->v.TypeAlias.name);
        SEQ(OMNI_N_TYPE_PARAM, s->v.TypeAlias.type_params);
        EXPR(s->v.TypeAlias.value);
        break;
#endif
    default: /* Global, Nonlocal, Pass, Break, Continue: no child nodes */
        break;
    }
}

static void comprehensions(asdl_comprehension_seq *g, omni_visit_fn fn, void *ctx) {
    SEQ(OMNI_N_COMPREHENSION, g);
}

static void expr_children(expr_ty e, omni_visit_fn fn, void *ctx) {
    switch (e->kind) {
    case BoolOp_kind: EXPRS(e->v.BoolOp.values); break;
    case NamedExpr_kind:
        EXPR(e->v.NamedExpr.target);
        EXPR(e->v.NamedExpr.value);
        break;
    case BinOp_kind:
        EXPR(e->v.BinOp.left);
        EXPR(e->v.BinOp.right);
        break;
    case UnaryOp_kind: EXPR(e->v.UnaryOp.operand); break;
    case Lambda_kind:
        ONE(OMNI_N_ARGUMENTS, e->v.Lambda.args);
        EXPR(e->v.Lambda.body);
        break;
    case IfExp_kind:
        EXPR(e->v.IfExp.test);
        EXPR(e->v.IfExp.body);
        EXPR(e->v.IfExp.orelse);
        break;
    case Dict_kind:
        EXPRS(e->v.Dict.keys); /* None for a **mapping: skipped, as ast does */
        EXPRS(e->v.Dict.values);
        break;
    case Set_kind: EXPRS(e->v.Set.elts); break;
    case ListComp_kind:
        EXPR(e->v.ListComp.elt);
        comprehensions(e->v.ListComp.generators, fn, ctx);
        break;
    case SetComp_kind:
        EXPR(e->v.SetComp.elt);
        comprehensions(e->v.SetComp.generators, fn, ctx);
        break;
    case DictComp_kind:
        EXPR(e->v.DictComp.key);
        EXPR(e->v.DictComp.value);
        comprehensions(e->v.DictComp.generators, fn, ctx);
        break;
    case GeneratorExp_kind:
        EXPR(e->v.GeneratorExp.elt);
        comprehensions(e->v.GeneratorExp.generators, fn, ctx);
        break;
    case Await_kind: EXPR(e->v.Await.value); break;
    case Yield_kind: EXPR(e->v.Yield.value); break;
    case YieldFrom_kind: EXPR(e->v.YieldFrom.value); break;
    case Compare_kind:
        EXPR(e->v.Compare.left);
        EXPRS(e->v.Compare.comparators);
        break;
    case Call_kind:
        EXPR(e->v.Call.func);
        EXPRS(e->v.Call.args);
        SEQ(OMNI_N_KEYWORD, e->v.Call.keywords);
        break;
    case FormattedValue_kind:
        EXPR(e->v.FormattedValue.value);
        EXPR(e->v.FormattedValue.format_spec);
        break;
    case JoinedStr_kind: EXPRS(e->v.JoinedStr.values); break;
#if PY_VERSION_HEX >= 0x030E0000
    case TemplateStr_kind: EXPRS(e->v.TemplateStr.values); break; /* t"..." (PEP 750) */
    case Interpolation_kind:
        EXPR(e->v.Interpolation.value);
        EXPR(e->v.Interpolation.format_spec);
        break;
#endif
    case Attribute_kind: EXPR(e->v.Attribute.value); break;
    case Subscript_kind:
        EXPR(e->v.Subscript.value);
        EXPR(e->v.Subscript.slice);
        break;
    case Starred_kind: EXPR(e->v.Starred.value); break;
    case List_kind: EXPRS(e->v.List.elts); break;
    case Tuple_kind: EXPRS(e->v.Tuple.elts); break;
    case Slice_kind:
        EXPR(e->v.Slice.lower);
        EXPR(e->v.Slice.upper);
        EXPR(e->v.Slice.step);
        break;
    default: /* Constant, Name */
        break;
    }
}

static void pattern_children(pattern_ty p, omni_visit_fn fn, void *ctx) {
    switch (p->kind) {
    case MatchValue_kind: EXPR(p->v.MatchValue.value); break;
    case MatchSequence_kind: SEQ(OMNI_N_PATTERN, p->v.MatchSequence.patterns); break;
    case MatchMapping_kind:
        EXPRS(p->v.MatchMapping.keys);
        SEQ(OMNI_N_PATTERN, p->v.MatchMapping.patterns);
        break;
    case MatchClass_kind:
        EXPR(p->v.MatchClass.cls);
        SEQ(OMNI_N_PATTERN, p->v.MatchClass.patterns);
        SEQ(OMNI_N_PATTERN, p->v.MatchClass.kwd_patterns);
        break;
    case MatchAs_kind: ONE(OMNI_N_PATTERN, p->v.MatchAs.pattern); break;
    case MatchOr_kind: SEQ(OMNI_N_PATTERN, p->v.MatchOr.patterns); break;
    default: /* MatchSingleton, MatchStar */
        break;
    }
}

void omni_ast_children(omni_node_t n, omni_visit_fn fn, void *ctx) {
    switch (n.k) {
    case OMNI_N_MOD: {
        mod_ty m = (mod_ty)n.p;
        if (m->kind == Module_kind)
            STMTS(m->v.Module.body);
        break;
    }
    case OMNI_N_STMT: stmt_children((stmt_ty)n.p, fn, ctx); break;
    case OMNI_N_EXPR: expr_children((expr_ty)n.p, fn, ctx); break;
    case OMNI_N_COMPREHENSION: {
        comprehension_ty c = (comprehension_ty)n.p;
        EXPR(c->target);
        EXPR(c->iter);
        EXPRS(c->ifs);
        break;
    }
    case OMNI_N_HANDLER: {
        excepthandler_ty h = (excepthandler_ty)n.p;
        EXPR(h->v.ExceptHandler.type);
        STMTS(h->v.ExceptHandler.body);
        break;
    }
    case OMNI_N_ARGUMENTS: {
        arguments_ty a = (arguments_ty)n.p;
        SEQ(OMNI_N_ARG, a->posonlyargs);
        SEQ(OMNI_N_ARG, a->args);
        ONE(OMNI_N_ARG, a->vararg);
        SEQ(OMNI_N_ARG, a->kwonlyargs);
        EXPRS(a->kw_defaults);
        ONE(OMNI_N_ARG, a->kwarg);
        EXPRS(a->defaults);
        break;
    }
    case OMNI_N_ARG: EXPR(((arg_ty)n.p)->annotation); break;
    case OMNI_N_KEYWORD: EXPR(((keyword_ty)n.p)->value); break;
    case OMNI_N_WITHITEM: {
        withitem_ty w = (withitem_ty)n.p;
        EXPR(w->context_expr);
        EXPR(w->optional_vars);
        break;
    }
    case OMNI_N_MATCH_CASE: {
        match_case_ty c = (match_case_ty)n.p;
        ONE(OMNI_N_PATTERN, c->pattern);
        EXPR(c->guard);
        STMTS(c->body);
        break;
    }
    case OMNI_N_PATTERN: pattern_children((pattern_ty)n.p, fn, ctx); break;
#if PY_VERSION_HEX >= 0x030C0000
    case OMNI_N_TYPE_PARAM: {
        type_param_ty t = (type_param_ty)n.p;
        if (t->kind == TypeVar_kind)
            EXPR(t->v.TypeVar.bound);
#if PY_VERSION_HEX >= 0x030D0000
        /* defaults of type parameters (PEP 696) */
        if (t->kind == TypeVar_kind)
            EXPR(t->v.TypeVar.default_value);
        else if (t->kind == ParamSpec_kind)
            EXPR(t->v.ParamSpec.default_value);
        else if (t->kind == TypeVarTuple_kind)
            EXPR(t->v.TypeVarTuple.default_value);
#endif
        break;
    }
#endif
    default: /* alias */
        break;
    }
}

int omni_ast_lineno(omni_node_t n, int *line) {
    switch (n.k) {
    case OMNI_N_STMT: *line = ((stmt_ty)n.p)->lineno; return 1;
    case OMNI_N_EXPR: *line = ((expr_ty)n.p)->lineno; return 1;
    case OMNI_N_HANDLER: *line = ((excepthandler_ty)n.p)->lineno; return 1;
    case OMNI_N_ARG: *line = ((arg_ty)n.p)->lineno; return 1;
    case OMNI_N_KEYWORD: *line = ((keyword_ty)n.p)->lineno; return 1;
    case OMNI_N_ALIAS: *line = ((alias_ty)n.p)->lineno; return 1;
    case OMNI_N_PATTERN: *line = ((pattern_ty)n.p)->lineno; return 1;
#if PY_VERSION_HEX >= 0x030C0000
    case OMNI_N_TYPE_PARAM: *line = ((type_param_ty)n.p)->lineno; return 1;
#endif
    default: return 0;
    }
}
