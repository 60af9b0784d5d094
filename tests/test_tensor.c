/* siam_tensor on every backend: shapes, ownership (owning vs view), host
 * round trips through the backend, and the error messages. */
#include <stdlib.h>
#include <string.h>

#include "host/tensor.h"
#include "tests/support/ops_check.h"

static void tensor_new_shape_and_round_trip(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    siam_error err = {{0}};
    const int shape[4] = {2, 3, 4, 5};
    siam_tensor *t = siam_tensor_new(be->ops, be->ctx, 4, shape, &err);
    assert_non_null(t);
    assert_int_equal(siam_tensor_numel(t), 120);
    assert_int_equal(siam_tensor_bytes(t), 480);
    assert_int_equal(t->device, be->ops->device);
    assert_int_equal(t->owns, 1);
    char s[64];
    assert_string_equal(siam_tensor_shape_str(t, s, sizeof s), "(2,3,4,5)");
    assert_string_equal(siam_tensor_shape_str(t, s, 5), "(2,3");

    float x[120], y[120];
    assert_int_equal(siam_tensor_download(t, y, 120, &err), 0);
    for (int i = 0; i < 120; i++)
        assert_true(y[i] == 0.0f); /* new tensors are zero */
    siam_check_random(x, 120, 90, -1.0f, 1.0f);
    assert_int_equal(siam_tensor_upload(t, x, 120, &err), 0);
    assert_int_equal(siam_tensor_download(t, y, 120, &err), 0);
    assert_memory_equal(x, y, sizeof x);

    /* A view over the same memory sees the same values and frees nothing:
     * freeing the view first, then the owner, must not double free. */
    const int flat[1] = {120};
    siam_tensor *v = siam_tensor_view(be->ops, be->ctx, t->data, 1, flat, &err);
    assert_non_null(v);
    assert_int_equal(v->owns, 0);
    assert_string_equal(siam_tensor_shape_str(v, s, sizeof s), "(120)");
    memset(y, 0, sizeof y);
    assert_int_equal(siam_tensor_download(v, y, 120, &err), 0);
    assert_memory_equal(x, y, sizeof x);
    assert_false(siam_tensor_same_shape(t, v));
    siam_tensor *u = siam_tensor_new(be->ops, be->ctx, 4, shape, &err);
    assert_true(siam_tensor_same_shape(t, u));
    siam_tensor_free(v);
    siam_tensor_free(t);
    siam_tensor_free(u);
    siam_tensor_free(NULL);
}

static void tensor_errors_name_the_fault(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    siam_error err = {{0}};
    const int five[5] = {1, 2, 3, 4, 5};
    assert_null(siam_tensor_new(be->ops, be->ctx, 5, five, &err));
    assert_string_equal(err.msg, "siam_tensor_new: ndim must be 1..4, got 5");
    const int zero[2] = {3, 0};
    assert_null(siam_tensor_new(be->ops, be->ctx, 2, zero, &err));
    assert_string_equal(err.msg, "siam_tensor_new: dimension 1 is 0, must be >= 1");
    assert_null(siam_tensor_view(be->ops, be->ctx, NULL, 1, five, &err));
    assert_string_equal(err.msg, "siam_tensor_view: NULL data");

    const int shape[2] = {3, 4};
    siam_tensor *t = siam_tensor_new(be->ops, be->ctx, 2, shape, &err);
    assert_non_null(t);
    float x[13] = {0};
    assert_int_equal(siam_tensor_upload(t, x, 13, &err), -1);
    assert_string_equal(err.msg, "siam_tensor_upload: 13 values for a tensor (3,4) of 12");
    assert_int_equal(siam_tensor_download(t, x, 11, &err), -1);
    assert_string_equal(err.msg, "siam_tensor_download: 11 values for a tensor (3,4) of 12");
    siam_tensor_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tensor_new_shape_and_round_trip),
        cmocka_unit_test(tensor_errors_name_the_fault),
    };
    return siam_check_run("tensor", tests, sizeof tests / sizeof tests[0]);
}
