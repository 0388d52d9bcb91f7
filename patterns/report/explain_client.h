/* explain_client.h - --explain's exchange with an OpenAI-compatible endpoint. */
#ifndef OMNI_EXPLAIN_CLIENT_H
#define OMNI_EXPLAIN_CLIENT_H

#include <stddef.h>

/* Sends bundle to $OPENAI_BASE_URL/chat/completions (model
 * $OMNIPYTHON_EXPLAIN_MODEL, key $OPENAI_API_KEY when set). Returns 0 with
 * the answer in *answer (free it) and the model's name in model; 1 when no
 * endpoint is set (nothing was sent); -1 with the reason in err. */
int omni_explain_ask(const char *bundle, char **answer, char *model, size_t model_cap,
                     char *err, size_t cap);

#endif
