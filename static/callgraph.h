/* callgraph.h - the tree's static call graph: each file's facts (its
 * definitions with Python's qualified names, its imports, its call sites)
 * collected by the scan's workers, then resolved across the files by the
 * parent: direct calls, calls through imported names, methods called on
 * self and cls, class instantiation; what cannot be resolved is counted. */
#ifndef OMNI_CALLGRAPH_H
#define OMNI_CALLGRAPH_H

#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>

#include "patterns/report/json_out.h"
#include "static/ast_walk.h"

/* Packs the file's facts as one msgpack map (worker side). */
void omni_cg_facts(mod_ty mod, msgpack_packer *pk);

typedef struct omni_cg omni_cg_t;

/* Builds the graph from the files' results (each a msgpack map with
 * "path" and "callgraph"). Returns NULL when memory runs out. */
omni_cg_t *omni_cg_build(const char *const *data, const uint32_t *size, size_t n);
void omni_cg_free(omni_cg_t *g);

/* A call seen at run time, by the callee's and caller's path (relative to
 * the tree) and qualified name: marks the static edge seen, or records a
 * dynamic-only edge when the static graph lacks it. */
void omni_cg_seen(omni_cg_t *g, const char *caller_path, const char *caller_qualname,
                  const char *callee_path, const char *callee_qualname, uint64_t calls);

/* The graph as JSON (the "callgraph" object) or Graphviz DOT. */
void omni_cg_json(const omni_cg_t *g, omni_json_t *j);
int omni_cg_dot(const omni_cg_t *g, FILE *f);
/* Totals for the text report. */
void omni_cg_totals(const omni_cg_t *g, size_t *nodes, size_t *edges, uint64_t *calls,
                    uint64_t *resolved);

#endif
