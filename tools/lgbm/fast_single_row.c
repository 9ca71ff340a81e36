/*
 * LightGBM's own single-row prediction, timed on the same model and rows as mako's
 * `cargo bench --bench lgbm`: LGBM_BoosterPredictForMatSingleRowFast from the
 * lib_lightgbm.so of the lightgbm wheel (PyPI), one thread. Run by hand, not in CI; see
 * tools/lgbm/README.md for the command.
 *
 * usage: fast_single_row <model.txt> <rows.csv> <expected.pred.csv> [passes]
 *
 * Each pass predicts every row once (probability, float64 input); the time of a pass
 * divided by its rows is one sample. Prints the median, mean and 1st/99th percentiles of
 * those per-row times, and checks every prediction against the expected CSV (LightGBM's
 * Python predictions) so the timed calls are known to do the work.
 *
 * The prototypes below are LightGBM's C API (c_api.h) as documented; the wheel ships the
 * library without the header.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void *BoosterHandle;
typedef void *FastConfigHandle;
int LGBM_BoosterCreateFromModelfile(const char *filename, int *out_num_iterations, BoosterHandle *out);
int LGBM_BoosterPredictForMatSingleRowFastInit(BoosterHandle booster, const int predict_type,
                                               const int start_iteration, const int num_iteration,
                                               const int data_type, const int32_t ncol,
                                               const char *parameter, FastConfigHandle *out_fastConfig);
int LGBM_BoosterPredictForMatSingleRowFast(FastConfigHandle fastConfig_handle, const void *data,
                                           int64_t *out_len, double *out_result);
int LGBM_FastConfigFree(FastConfigHandle fastConfig);
int LGBM_BoosterFree(BoosterHandle handle);
const char *LGBM_GetLastError(void);

#define C_API_PREDICT_NORMAL 0
#define C_API_DTYPE_FLOAT64 1
#define MAX_ROWS 10000
#define MAX_COLS 256

static double rows[MAX_ROWS][MAX_COLS];
static double expected[MAX_ROWS];

/* Reads a CSV with a header; an empty field is NaN. Returns the row count, sets *ncol. */
static int read_csv(const char *path, double (*out)[MAX_COLS], int *ncol) {
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(1); }
    char line[1 << 16];
    if (!fgets(line, sizeof line, f)) { fprintf(stderr, "%s: empty\n", path); exit(1); }
    *ncol = 1;
    for (char *p = line; *p; p++) *ncol += (*p == ',');
    int n = 0;
    while (n < MAX_ROWS && fgets(line, sizeof line, f)) {
        char *p = line;
        for (int c = 0; c < *ncol; c++) {
            char *end = p;
            while (*end && *end != ',' && *end != '\n') end++;
            out[n][c] = (end == p) ? NAN : strtod(p, NULL);
            p = (*end == ',') ? end + 1 : end;
        }
        n++;
    }
    fclose(f);
    return n;
}

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s <model.txt> <rows.csv> <expected.pred.csv> [passes]\n", argv[0]);
        return 2;
    }
    int passes = argc > 4 ? atoi(argv[4]) : 20000;
    int ncol, ecol;
    int n = read_csv(argv[2], rows, &ncol);
    static double exp_rows[MAX_ROWS][MAX_COLS];
    int ne = read_csv(argv[3], exp_rows, &ecol);
    if (ne != n || ecol != 1) { fprintf(stderr, "expected CSV: %d rows x %d\n", ne, ecol); return 1; }
    for (int i = 0; i < n; i++) expected[i] = exp_rows[i][0];

    BoosterHandle booster;
    int iters;
    if (LGBM_BoosterCreateFromModelfile(argv[1], &iters, &booster)) {
        fprintf(stderr, "load: %s\n", LGBM_GetLastError());
        return 1;
    }
    FastConfigHandle fast;
    if (LGBM_BoosterPredictForMatSingleRowFastInit(booster, C_API_PREDICT_NORMAL, 0, -1, C_API_DTYPE_FLOAT64,
                                                   ncol, "num_threads=1", &fast)) {
        fprintf(stderr, "init: %s\n", LGBM_GetLastError());
        return 1;
    }
    double out;
    int64_t len;
    for (int i = 0; i < n; i++) {
        if (LGBM_BoosterPredictForMatSingleRowFast(fast, rows[i], &len, &out) || len != 1) {
            fprintf(stderr, "predict: %s\n", LGBM_GetLastError());
            return 1;
        }
        if (fabs(out - expected[i]) > 1e-12) {
            fprintf(stderr, "row %d: %.17g, expected %.17g\n", i, out, expected[i]);
            return 1;
        }
    }
    double *per_row = malloc(sizeof(double) * passes);
    double sink = 0;
    for (int warm = 0; warm < 1000; warm++)
        for (int i = 0; i < n; i++) {
            LGBM_BoosterPredictForMatSingleRowFast(fast, rows[i], &len, &out);
            sink += out;
        }
    for (int p = 0; p < passes; p++) {
        double t0 = now_ns();
        for (int i = 0; i < n; i++) {
            LGBM_BoosterPredictForMatSingleRowFast(fast, rows[i], &len, &out);
            sink += out;
        }
        per_row[p] = (now_ns() - t0) / n;
    }
    qsort(per_row, passes, sizeof(double), cmp);
    double mean = 0;
    for (int p = 0; p < passes; p++) mean += per_row[p];
    mean /= passes;
    printf("LGBM_BoosterPredictForMatSingleRowFast: %d rows x %d features, %d passes\n", n, ncol, passes);
    printf("per row: p50 %.1f ns, mean %.1f ns, p1 %.1f ns, p99 %.1f ns (checksum %.6f)\n",
           per_row[passes / 2], mean, per_row[passes / 100], per_row[passes * 99 / 100], sink);
    free(per_row);
    LGBM_FastConfigFree(fast);
    LGBM_BoosterFree(booster);
    return 0;
}
