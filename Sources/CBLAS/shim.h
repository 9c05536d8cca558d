#ifndef TESTBED_CBLAS_SHIM_H
#define TESTBED_CBLAS_SHIM_H

#include <stddef.h>
#include <cblas.h>

// Debian's OpenBLAS carries LAPACK as Fortran symbols but no LAPACKE header,
// so the few routines the project uses are declared here. Character arguments
// carry a hidden length (gfortran ABI), passed explicitly as the trailing size_t.

/// Minimum-norm least squares by divide-and-conquer SVD.
void dgelsd_(const int *m, const int *n, const int *nrhs, double *a, const int *lda,
             double *b, const int *ldb, double *s, const double *rcond, int *rank,
             double *work, const int *lwork, int *iwork, int *info);

/// Cholesky factorisation of a symmetric positive definite matrix.
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t uplo_len);

/// Solve with a Cholesky factor computed by dpotrf_.
void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *lda,
             double *b, const int *ldb, int *info, size_t uplo_len);

/// Singular value decomposition by divide and conquer.
void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s,
             double *u, const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork,
             int *iwork, int *info, size_t jobz_len);

/// QR factorisation by Householder reflections.
void dgeqrf_(const int *m, const int *n, double *a, const int *lda, double *tau, double *work, const int *lwork, int *info);

/// Applies the Q of dgeqrf_ (or its transpose) to a matrix.
void dormqr_(const char *side, const char *trans, const int *m, const int *n, const int *k, const double *a, const int *lda,
             const double *tau, double *c, const int *ldc, double *work, const int *lwork, int *info,
             size_t side_len, size_t trans_len);

/// Eigenvalues and eigenvectors of a symmetric matrix by divide and conquer.
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t uplo_len);

#endif
