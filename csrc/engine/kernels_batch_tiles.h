/* kernels_batch_tiles.h — the register tiles of the prompt-processing paths
 * (RR = 4 rows × one group of tokens), written once for both vector widths:
 * kernels_batch_avx512.c includes this file with BW = 512 (groups of 16
 * tokens, NAME_16) and BW = 256 (groups of at most 8, NAME_8: a group's
 * tail costs half; an MoE expert often sees few tokens). The 8-token
 * tiles read the low half of the same 16-token layouts. Each tile returns
 * its RR rows' token results in out (lanes past the group's width are 0).
 *
 * The 4 rows are written out so that the 8 integer and 4 float
 * accumulators stay in registers. */
#if BW == 512
#define VI __m512i
#define VF __m512
#define TILE(name) name##_16
#define vzero_i _mm512_setzero_si512
#define vzero_f _mm512_setzero_ps
#define vload_i(p) _mm512_load_si512((const void *)(p))
#define vload_f(p) _mm512_load_ps(p)
#define vset1_i _mm512_set1_epi32
#define vset1_f _mm512_set1_ps
#define vdpbusd _mm512_dpbusd_epi32
#define vdpwssd _mm512_dpwssd_epi32
#define vadd_i _mm512_add_epi32
#define vsub_i _mm512_sub_epi32
#define vmullo_i _mm512_mullo_epi32
#define vcvt_f _mm512_cvtepi32_ps
#define vfmadd _mm512_fmadd_ps
#define vfmsub _mm512_fmsub_ps
#define vfnmadd _mm512_fnmadd_ps
#define vmul_f _mm512_mul_ps
#define vout(x) (x)
#elif BW == 256
#define VI __m256i
#define VF __m256
#define TILE(name) name##_8
#define vzero_i _mm256_setzero_si256
#define vzero_f _mm256_setzero_ps
#define vload_i(p) _mm256_load_si256((const __m256i *)(p))
#define vload_f(p) _mm256_load_ps(p)
#define vset1_i _mm256_set1_epi32
#define vset1_f _mm256_set1_ps
#define vdpbusd _mm256_dpbusd_epi32
#define vdpwssd _mm256_dpwssd_epi32
#define vadd_i _mm256_add_epi32
#define vsub_i _mm256_sub_epi32
#define vmullo_i _mm256_mullo_epi32
#define vcvt_f _mm256_cvtepi32_ps
#define vfmadd _mm256_fmadd_ps
#define vfmsub _mm256_fmsub_ps
#define vfnmadd _mm256_fnmadd_ps
#define vmul_f _mm256_mul_ps
#define vout(x) _mm512_zextps256_ps512(x)
#else
#error "BW must be 512 or 256"
#endif

/* The 4 weight bytes at p in every 32-bit lane. */
#define vbcast4(p) vset1_i(load4(p))

/* ---- generic path (blocks of 32, signed weights) ---- */

/* Block epilogue for one row: acc += d · (s0·i0 + s1·i1 − c0 − c1 − m0·Σa0 − m1·Σa1). */
static inline VF TILE(epilogue)(VF acc, VI i0, VI i1, const wblk *w, const ablk *a) {
    VF v = vfmsub(vcvt_f(i0), vset1_f(w->s[0]), vset1_f(w->c[0] + w->c[1]));
    v = vfmadd(vcvt_f(i1), vset1_f(w->s[1]), v);
    if (w->m[0] != 0.f || w->m[1] != 0.f) {
        v = vfnmadd(vset1_f(w->m[0]), vload_f(a->sum[0]), v);
        v = vfnmadd(vset1_f(w->m[1]), vload_f(a->sum[1]), v);
    }
    return vfmadd(v, vload_f(a->d), acc);
}

static void TILE(tile)(const void *const *wr, const void *av, int64_t nb, __m512 out[RR]) {
    VF f0 = vzero_f(), f1 = f0, f2 = f0, f3 = f0;
    const wblk *w0 = wr[0], *w1 = wr[1], *w2 = wr[2], *w3 = wr[3];
    const ablk *a = av;
    for (int64_t b = 0; b < nb; b++) {
        const ablk *ab = &a[b];
        VI l0 = vzero_i(), l1 = l0, l2 = l0, l3 = l0, h0 = l0, h1 = l0, h2 = l0, h3 = l0;
#pragma GCC unroll 4
        for (int g = 0; g < 4; g++) {
            VI lo = vload_i(ab->q[g]), hi = vload_i(ab->q[g + 4]);
            l0 = vdpbusd(l0, lo, vbcast4(w0[b].w + 4 * g));
            l1 = vdpbusd(l1, lo, vbcast4(w1[b].w + 4 * g));
            l2 = vdpbusd(l2, lo, vbcast4(w2[b].w + 4 * g));
            l3 = vdpbusd(l3, lo, vbcast4(w3[b].w + 4 * g));
            h0 = vdpbusd(h0, hi, vbcast4(w0[b].w + 16 + 4 * g));
            h1 = vdpbusd(h1, hi, vbcast4(w1[b].w + 16 + 4 * g));
            h2 = vdpbusd(h2, hi, vbcast4(w2[b].w + 16 + 4 * g));
            h3 = vdpbusd(h3, hi, vbcast4(w3[b].w + 16 + 4 * g));
        }
        f0 = TILE(epilogue)(f0, l0, h0, &w0[b], ab);
        f1 = TILE(epilogue)(f1, l1, h1, &w1[b], ab);
        f2 = TILE(epilogue)(f2, l2, h2, &w2[b], ab);
        f3 = TILE(epilogue)(f3, l3, h3, &w3[b], ab);
    }
    out[0] = vout(f0), out[1] = vout(f1), out[2] = vout(f2), out[3] = vout(f3);
}

/* ---- Q4_K / Q5_K (super-blocks of 256, unsigned weights, integer scales) ---- */

/* One row's integer dot with one sub-block: two chains of four vpdpbusd. */
#define K45_DOT(l, h, wr, j, g, lo, hi)                             \
    l = vdpbusd(l, vbcast4((wr)->u + 32 * (j) + 4 * (g)), lo);      \
    h = vdpbusd(h, vbcast4((wr)->u + 32 * (j) + 16 + 4 * (g)), hi)
#define K45_END(f, si, mi, w) \
    f = vfmadd(da, vfmsub(vcvt_f(si), vset1_f((w)->d), vmul_f(vcvt_f(mi), vset1_f((w)->dmin))), f)

static void TILE(k45_tile)(const void *const *wv, const void *av, int64_t nsb, __m512 out[RR]) {
    const wblk_k *const *wr = (const wblk_k *const *)wv;
    const ablk_k *a = av;
    VF f0 = vzero_f(), f1 = f0, f2 = f0, f3 = f0;
    for (int64_t s = 0; s < nsb; s++) {
        const ablk_k *ab = &a[s];
        const wblk_k *w0 = &wr[0][s], *w1 = &wr[1][s], *w2 = &wr[2][s], *w3 = &wr[3][s];
        VI s0 = vzero_i(), s1 = s0, s2 = s0, s3 = s0, m0 = s0, m1 = s0, m2 = s0, m3 = s0;
        for (int j = 0; j < 8; j++) {
            VI l0 = vzero_i(), l1 = l0, l2 = l0, l3 = l0, h0 = l0, h1 = l0, h2 = l0, h3 = l0;
#pragma GCC unroll 4
            for (int g = 0; g < 4; g++) {
                VI lo = vload_i(ab->q[j][g]), hi = vload_i(ab->q[j][g + 4]);
                K45_DOT(l0, h0, w0, j, g, lo, hi);
                K45_DOT(l1, h1, w1, j, g, lo, hi);
                K45_DOT(l2, h2, w2, j, g, lo, hi);
                K45_DOT(l3, h3, w3, j, g, lo, hi);
            }
            s0 = vadd_i(s0, vmullo_i(vadd_i(l0, h0), vset1_i(w0->sc[j])));
            s1 = vadd_i(s1, vmullo_i(vadd_i(l1, h1), vset1_i(w1->sc[j])));
            s2 = vadd_i(s2, vmullo_i(vadd_i(l2, h2), vset1_i(w2->sc[j])));
            s3 = vadd_i(s3, vmullo_i(vadd_i(l3, h3), vset1_i(w3->sc[j])));
        }
        for (int p = 0; p < 4; p++) {
            VI as = vload_i(ab->sum[p]);
            m0 = vdpwssd(m0, as, vbcast4(w0->mn + 2 * p));
            m1 = vdpwssd(m1, as, vbcast4(w1->mn + 2 * p));
            m2 = vdpwssd(m2, as, vbcast4(w2->mn + 2 * p));
            m3 = vdpwssd(m3, as, vbcast4(w3->mn + 2 * p));
        }
        VF da = vload_f(ab->d);
        K45_END(f0, s0, m0, w0);
        K45_END(f1, s1, m1, w1);
        K45_END(f2, s2, m2, w2);
        K45_END(f3, s3, m3, w3);
    }
    out[0] = vout(f0), out[1] = vout(f1), out[2] = vout(f2), out[3] = vout(f3);
}
#undef K45_DOT
#undef K45_END

/* ---- Q8_0 (blocks of 32, weights made unsigned) ---- */

#define Q8_DOT(l, h, wr, b, g, lo, hi)                      \
    l = vdpbusd(l, vbcast4((wr)[b].u + 4 * (g)), lo);       \
    h = vdpbusd(h, vbcast4((wr)[b].u + 16 + 4 * (g)), hi)
#define Q8_END(f, l, h, wr, b) \
    f = vfmadd(vcvt_f(vsub_i(vadd_i(l, h), off)), vmul_f(da, vset1_f((wr)[b].s)), f)

static void TILE(q8_tile)(const void *const *wr, const void *av, int64_t nb, __m512 out[RR]) {
    VF f0 = vzero_f(), f1 = f0, f2 = f0, f3 = f0;
    const wblk_q8 *w0 = wr[0], *w1 = wr[1], *w2 = wr[2], *w3 = wr[3];
    const ablk_q8 *a = av;
    for (int64_t b = 0; b < nb; b++) {
        const ablk_q8 *ab = &a[b];
        VI l0 = vzero_i(), l1 = l0, l2 = l0, l3 = l0, h0 = l0, h1 = l0, h2 = l0, h3 = l0;
#pragma GCC unroll 4
        for (int g = 0; g < 4; g++) {
            VI lo = vload_i(ab->q[g]), hi = vload_i(ab->q[g + 4]);
            Q8_DOT(l0, h0, w0, b, g, lo, hi);
            Q8_DOT(l1, h1, w1, b, g, lo, hi);
            Q8_DOT(l2, h2, w2, b, g, lo, hi);
            Q8_DOT(l3, h3, w3, b, g, lo, hi);
        }
        VI off = vload_i(ab->off);
        VF da = vload_f(ab->d);
        Q8_END(f0, l0, h0, w0, b);
        Q8_END(f1, l1, h1, w1, b);
        Q8_END(f2, l2, h2, w2, b);
        Q8_END(f3, l3, h3, w3, b);
    }
    out[0] = vout(f0), out[1] = vout(f1), out[2] = vout(f2), out[3] = vout(f3);
}
#undef Q8_DOT
#undef Q8_END

#undef vbcast4
#undef VI
#undef VF
#undef TILE
#undef vzero_i
#undef vzero_f
#undef vload_i
#undef vload_f
#undef vset1_i
#undef vset1_f
#undef vdpbusd
#undef vdpwssd
#undef vadd_i
#undef vsub_i
#undef vmullo_i
#undef vcvt_f
#undef vfmadd
#undef vfmsub
#undef vfnmadd
#undef vmul_f
#undef vout
