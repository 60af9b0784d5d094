/* The tiny model configuration (tiny_model.h). */
#include "tests/support/tiny_model.h"

#include <string.h>

void siam_test_tiny_config(siam_model_config *cfg, int conv1_channels)
{
    siam_model_config_default(cfg);
    cfg->in_h = cfg->in_w = 28;
    int ch[4] = { conv1_channels, 3, 3, 4 }, k[4] = { 3, 3, 2, 2 };
    memcpy(cfg->channels, ch, sizeof ch);
    memcpy(cfg->kernels, k, sizeof k);
    cfg->fc_units = 6;
}

void siam_test_small_config(siam_model_config *cfg)
{
    siam_model_config_default(cfg);
    cfg->in_h = cfg->in_w = 32;
    int ch[4] = { 4, 8, 8, 16 }, k[4] = { 5, 3, 3, 2 };
    memcpy(cfg->channels, ch, sizeof ch);
    memcpy(cfg->kernels, k, sizeof k);
    cfg->fc_units = 32;
    cfg->dropout = 0.25f;
}
