/* siam.evaluate(model, set[, opts]): loss, accuracy, confusion matrix, AUC,
 * EER, the best threshold and the best and worst examples of each outcome
 * (host/metrics.h on the model's probabilities). */
#ifndef SIAM_BINDINGS_EVALUATE_H
#define SIAM_BINDINGS_EVALUATE_H

#include <lua.h>

/* Adds evaluate to the module table on the top of the stack. */
void siam_lua_open_evaluate(lua_State *L);

#endif
