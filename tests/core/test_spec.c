/* test_spec.c -- ntk_spec_check names the offending field for every invalid
 * combination, and accepts the documented valid ones. */
#include "testutil.h"

#include <math.h>
#include <string.h>

static int widths[4] = {8, 8, 8, 8};

static ntk_spec base(void)
{
    ntk_spec s = ntk_spec_default();
    s.widths = widths;
    return s;
}

static void expect_bad(ntk_spec s, const char *needle)
{
    char msg[256] = "";
    assert_int_equal(ntk_spec_check(&s, msg, sizeof msg), NTK_EINVAL);
    if (!strstr(msg, needle)) fail_msg("message '%s' does not name '%s'", msg, needle);
    assert_string_equal(msg, ntk_last_error());
}

static void test_invalid_specs(void **state)
{
    (void)state;
    ntk_spec s;
    s = base(); s.depth = -1; expect_bad(s, "depth");
    s = base(); s.widths = NULL; expect_bad(s, "widths");
    s = base(); widths[2] = 0; expect_bad(s, "widths[3]"); widths[2] = 8;
    s = base(); widths[0] = -4; expect_bad(s, "widths[1]"); widths[0] = 8;
    s = base(); s.n0 = 0; expect_bad(s, "n0");
    s = base(); s.outputs = 0; expect_bad(s, "outputs");
    s = base(); s.act = (ntk_act)17; expect_bad(s, "act");
    s = base(); s.act = (ntk_act)(NTK_ACT_SIGMOID + 1); expect_bad(s, "act"); /* one past the last code */
    s = base(); s.param = (ntk_param)9; expect_bad(s, "param");
    s = base(); s.bias = (ntk_bias)9; expect_bad(s, "bias");
    s = base(); s.bias_out = (ntk_bias)9; expect_bad(s, "bias_out");
    s = base(); s.first_layer = (ntk_first_layer)5; expect_bad(s, "first_layer");
    s = base(); s.sw2 = 0; expect_bad(s, "sw2");
    s = base(); s.sw2 = NAN; expect_bad(s, "sw2");
    s = base(); s.sw2_out = -1; expect_bad(s, "sw2_out");
    s = base(); s.sb = -0.5; expect_bad(s, "sb");
    s = base(); s.sb = INFINITY; expect_bad(s, "sb");
    s = base(); s.sb = 0; expect_bad(s, "bias none"); /* NTK param: zero multiplier on a trainable bias */
    s = base(); s.depth = 3; widths[0] = 1 << 30; widths[1] = 1 << 30; expect_bad(s, "parameters");
    widths[0] = widths[1] = 8;
}

static void test_valid_specs(void **state)
{
    (void)state;
    ntk_spec s = base();
    assert_int_equal(ntk_spec_check(&s, NULL, 0), NTK_OK);
    s.depth = 0; s.widths = NULL; /* linear model */
    assert_int_equal(ntk_spec_check(&s, NULL, 0), NTK_OK);
    s = base(); s.bias = s.bias_out = NTK_BIAS_NONE; s.sb = 0;
    assert_int_equal(ntk_spec_check(&s, NULL, 0), NTK_OK);
    s = base(); s.param = NTK_PARAM_STANDARD; s.sb = 0; /* standard: sb is the init std; 0 = zero init */
    assert_int_equal(ntk_spec_check(&s, NULL, 0), NTK_OK);
    s = base(); s.act = NTK_ACT_SIGMOID; /* the last code is valid */
    assert_int_equal(ntk_spec_check(&s, NULL, 0), NTK_OK);
}

static void test_name_parsing(void **state)
{
    (void)state;
    const char *acts[] = {"relu", "erf", "tanh", "gelu", "identity", "sigmoid"};
    for (int i = 0; i < 6; i++) {
        ntk_act a;
        assert_int_equal(ntk_act_parse(acts[i], &a), NTK_OK);
        assert_string_equal(ntk_act_name(a), acts[i]);
    }
    ntk_act a;
    assert_int_equal(ntk_act_parse("sigmoid", &a), NTK_OK);
    assert_int_equal(a, NTK_ACT_SIGMOID);
    assert_int_equal(NTK_ACT_IDENTITY, 4); /* appended last: existing codes unchanged */
    assert_int_equal(ntk_act_parse("softplus", &a), NTK_EINVAL);
    assert_non_null(strstr(ntk_last_error(), "(expected relu|erf|tanh|gelu|identity|sigmoid)"));
    ntk_bias b;
    assert_int_equal(ntk_bias_parse("zero", &b), NTK_OK);
    assert_int_equal(b, NTK_BIAS_ZERO);
    assert_int_equal(ntk_bias_parse("Zero", &b), NTK_EINVAL);
}

/* Layer multipliers implement the parameterizations of docs/conventions.md. */
static void test_layer_multipliers(void **state)
{
    (void)state;
    int w[2] = {10, 20};
    ntk_spec s = ntk_spec_default();
    s.depth = 2; s.widths = w; s.n0 = 5; s.outputs = 3; s.sw2 = 2; s.sw2_out = 1.5; s.sb = 0.3;
    s.bias_out = NTK_BIAS_NONE; s.first_layer = NTK_FIRST_NONE;
    ntk_net *net = NULL;
    TU_OK(ntk_net_alloc(&s, &net));
    ntk_layer L;
    TU_OK(ntk_net_layer(net, 1, &L));
    assert_true(fabs(L.c_w - sqrt(2.0)) < 1e-15 && L.c_b == 0.3 && L.rows == 10 && L.cols == 5);
    TU_OK(ntk_net_layer(net, 2, &L));
    assert_true(fabs(L.c_w - sqrt(2.0 / 10)) < 1e-15);
    TU_OK(ntk_net_layer(net, 3, &L));
    assert_true(fabs(L.c_w - sqrt(1.5 / 20)) < 1e-15 && L.b == NULL && L.c_b == 0 && L.rows == 3);
    assert_int_equal(ntk_net_num_params(net), 10 * 5 + 10 + 20 * 10 + 20 + 3 * 20);
    assert_int_equal(ntk_net_layer(net, 4, &L), NTK_EINVAL);
    ntk_net_free(net);
    /* standard parameterization: multipliers 1, the scale lives in the weights */
    s.param = NTK_PARAM_STANDARD;
    TU_OK(ntk_net_alloc(&s, &net));
    TU_OK(ntk_net_init(net, 3));
    TU_OK(ntk_net_layer(net, 2, &L));
    assert_true(L.c_w == 1.0 && L.c_b == 1.0);
    double m2 = 0;
    for (int i = 0; i < 200; i++) m2 += L.W[i] * L.W[i];
    m2 /= 200; /* sample variance of 200 draws of N(0, 2/10): se ~ 0.2 * 0.1 */
    assert_true(fabs(m2 - 0.2) < 0.08);
    ntk_net_free(net);
}

/* The one dtype enum: sizes and numpy names agree with numpy's dtypes, and the kernel paths refuse the
 * integer types (they compute in float64 or float32 only). */
static void test_dtype(void **state)
{
    (void)state;
    const ntk_dtype t[5] = {NTK_F64, NTK_F32, NTK_I64, NTK_I32, NTK_U8};
    const size_t size[5] = {8, 4, 8, 4, 1};
    const char *name[5] = {"float64", "float32", "int64", "int32", "uint8"};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ntk_dtype_size(t[i]), size[i]);
        assert_string_equal(ntk_dtype_name(t[i]), name[i]);
    }
    assert_int_equal(ntk_dtype_size((ntk_dtype)99), 0);
    ntk_spec s = ntk_spec_default();
    int w[1] = {4};
    s.depth = 1, s.widths = w, s.n0 = 2;
    ntk_net *net = NULL;
    ntk_feats *f = NULL;
    assert_int_equal(ntk_net_alloc(&s, &net), NTK_OK);
    assert_int_equal(ntk_feats_alloc(net, 3, NTK_I64, &f), NTK_EINVAL);
    assert_null(f);
    assert_non_null(strstr(ntk_last_error(), "int64"));
    double K[4] = {1, 0, 0, 1}, Kt[4];
    assert_int_equal(ntk_kernel_output_trace(2, 2, 1, NTK_U8, K, Kt), NTK_EINVAL);
    ntk_kernel_summary sm;
    assert_int_equal(ntk_kernel_summarize(2, NTK_I32, K, 2, &sm), NTK_EINVAL);
    ntk_net_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_specs),
        cmocka_unit_test(test_valid_specs),
        cmocka_unit_test(test_name_parsing),
        cmocka_unit_test(test_layer_multipliers),
        cmocka_unit_test(test_dtype),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
