#!/usr/bin/env python3
"""
Independent reference values for the verdict layer of libs/stats (issue 15), from SciPy/NumPy.

    python3 libs/stats/test/reference/generate_verdicts.py   # rewrites verdict-reference-values.ts
    npx prettier --write libs/stats/test/reference/verdict-reference-values.ts

  * log Gamma:                 scipy.special.gammaln
  * sequential SRM e-value:    scipy.stats.dirichlet_multinomial.logpmf(x, kappa*theta0) minus
                               scipy.stats.multinomial.logpmf(x, n, theta0)  (Lindon & Malek 2022:
                               the Bayes factor of the Dirichlet mixture; multinomial coefficients cancel)
  * Fisher exact:              scipy.stats.fisher_exact for 900/60 vs 100/0 (what a small-arm p should be near)
  * stable variance:           np.var(ddof=1) (two-pass) of y_i = 1e6 + 0.1*sin(i), i = 1..1000
  * log-ratio interval:        log(mean_t/mean_c) +- z * sqrt(s_t^2/(n_t mean_t^2) + s_c^2/(n_c mean_c^2)), exp - 1
  * floored proportions:       max(pooled, Agresti-Caffo) variance of p_t - p_c and its z-test
  * floored mean variance:     max(var_t/n_t + var_c/n_c, var(all units, ddof=1) * (1/n_c + 1/n_t)) on raw
                               lognormal(0, 2) arrays of 9,000 vs 1,000 units (the 90/10 case)
  * e-BH:                      Wang & Ramdas (2022) by its definition, k* = max{k : e_(k) >= m/(alpha k)}
  * novelty trend:             weighted least squares via numpy.linalg.lstsq on sqrt(w)-scaled rows,
                               SE from inv(X' W X) times the Knapp-Hartung factor max(1, Q_res/(k-2)),
                               p = 2 scipy.stats.t.sf(|t|, k - 2)
  * Cochran's Q:               numpy sums + scipy.stats.chi2.sf; Holm by its step-down definition
  * post-stratification:       raw per-stratum arrays, numpy means/var(ddof=1), weights N_h/N
  * post-stratified CUPED:     theta = x-coefficient of numpy.linalg.lstsq(y ~ x + one dummy per
                               stratum x arm cell) (the within-cell slope), then the same estimator
                               and variance on y - theta*x (Miratrix et al. 2013; Deng et al. 2013)
SciPy 1.17 / NumPy 2.4 were used for the committed file.
"""
import json
import math
import os

import numpy as np
from scipy import special, stats

out = {}

out["logGamma"] = [{"x": x, "value": float(special.gammaln(x))}
                   for x in [1e-3, 0.5, 1.0, 1.5, 2.0, 3.7, 7.9, 8.0, 12.5, 500.0, 1e5 + 0.25, 3.3e7]]

srm = []
for counts, weights, kappa in [
    ([5000, 5000], [1, 1], 1000.0),
    ([5200, 4800], [1, 1], 1000.0),
    ([101, 99], [0.5, 0.5], 1000.0),
    ([3000, 3100, 2900], [1, 1, 1], 1000.0),
    ([9000, 1000], [0.9, 0.1], 1000.0),
    ([8800, 1200], [0.9, 0.1], 100.0),
    ([0, 7], [1, 1], 1000.0),
    ([500123, 499877], [1, 1], 1000.0),
]:
    x = np.array(counts)
    theta = np.array(weights, dtype=float) / np.sum(weights)
    n = int(x.sum())
    log_e = stats.dirichlet_multinomial.logpmf(x, kappa * theta, n) - stats.multinomial.logpmf(x, n, theta)
    srm.append({"counts": counts, "weights": weights, "concentration": kappa, "logE": float(log_e)})
out["srm"] = srm

def sums(y):
    y = np.asarray(y, dtype=float)
    return {"n": int(y.size), "sum": float(y.sum()), "sumSq": float((y * y).sum())}


def cov_sums(x, y):
    x = np.asarray(x, dtype=float)
    return {**sums(y), "covSum": float(x.sum()), "covSumSq": float((x * x).sum()), "crossSum": float((x * y).sum())}


# Fisher exact, two-sided, for control 60/900 vs treatment 0/100.
out["fisher900_60_vs_100_0"] = float(stats.fisher_exact([[60, 840], [0, 100]]).pvalue)

i = np.arange(1, 1001, dtype=float)
y = 1e6 + 0.1 * np.sin(i)
out["stableVariance"] = {"n": 1000, "mean": float(np.mean(y)), "variance": float(np.var(y, ddof=1))}

rng = np.random.default_rng(1503)
logcases = []
for name, mc, mt, sd_c, sd_t, nc, nt in [("small arms, large drop", 1.0, 0.2, 1.5, 0.5, 30, 15),
                                         ("typical lift", 10.0, 10.4, 4.0, 4.0, 2000, 2000)]:
    c = mc + rng.normal(0, sd_c, nc)
    t = mt + rng.normal(0, sd_t, nt)
    m_c, m_t = np.mean(c), np.mean(t)
    v = np.var(t, ddof=1) / (nt * m_t**2) + np.var(c, ddof=1) / (nc * m_c**2)
    L = math.log(m_t / m_c)
    half = stats.norm.ppf(0.975) * math.sqrt(v)
    # plain delta method on the relative scale, for contrast
    vr = np.var(t, ddof=1) / (nt * m_c**2) + m_t**2 * np.var(c, ddof=1) / (nc * m_c**4)
    hr = stats.norm.ppf(0.975) * math.sqrt(vr)
    logcases.append({"name": name, "control": sums(c), "treatment": sums(t),
                     "estimate": float(m_t / m_c - 1), "ci": [math.expm1(L - half), math.expm1(L + half)],
                     "pValue": float(2 * stats.norm.sf(abs(L) / math.sqrt(v))),
                     "deltaCi": [float(m_t / m_c - 1 - hr), float(m_t / m_c - 1 + hr)]})
out["logRatio"] = logcases

props = []
for xc, nc, xt, nt in [(60, 900, 0, 100), (0, 10, 10, 10), (500, 10000, 560, 10000), (0, 50000, 60, 50000)]:
    pooled = (xc + xt) / (nc + nt)
    v_pooled = pooled * (1 - pooled) * (1 / nc + 1 / nt)
    pc_, pt_ = (xc + 1) / (nc + 2), (xt + 1) / (nt + 2)
    v_ac = pc_ * (1 - pc_) / (nc + 2) + pt_ * (1 - pt_) / (nt + 2)
    v = max(v_pooled, v_ac)
    d = xt / nt - xc / nc
    half = stats.norm.ppf(0.975) * math.sqrt(v)
    props.append({"control": [xc, nc], "treatment": [xt, nt], "variance": v, "estimate": d,
                  "pValue": float(2 * stats.norm.sf(abs(d) / math.sqrt(v))), "ci": [d - half, d + half]})
out["flooredProportions"] = props

def ebh(e, alpha):
    e = np.asarray(e, dtype=float)
    m = len(e)
    order = np.argsort(-e)
    k_star = 0
    for k in range(1, m + 1):
        if e[order[k - 1]] >= m / (alpha * k):
            k_star = k
    rejected = np.zeros(m, dtype=bool)
    rejected[order[:k_star]] = True
    return rejected.tolist()


out["eBh"] = [{"eValues": ev, "alpha": a, "rejected": ebh(ev, a)} for ev, a in [
    ([400.0, 60.0, 35.0, 1.0], 0.05),
    ([50.0, 30.0, 2.0, 1.0, 0.5], 0.05),
    ([1e6, 0.0, 19.9, 20.0], 0.05),
    ([12.0, 11.0, 10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0], 0.5),
]]

# Novelty trend on fixed cohort effects.
days = np.arange(10, dtype=float)
est = np.array([0.52, 0.47, 0.45, 0.36, 0.33, 0.30, 0.22, 0.20, 0.15, 0.11])
var = np.array([0.010, 0.011, 0.009, 0.012, 0.010, 0.013, 0.011, 0.010, 0.012, 0.014])
w = 1 / var
X = np.column_stack([np.ones_like(days), days])
sw = np.sqrt(w)
beta = np.linalg.lstsq(X * sw[:, None], est * sw, rcond=None)[0]
cov = np.linalg.inv(X.T @ (X * w[:, None]))
q_res = float(np.sum(w * (est - X @ beta) ** 2))
k_df = len(days) - 2
se = math.sqrt(cov[1, 1] * max(1.0, q_res / k_df))
out["novelty"] = {"days": days.tolist(), "estimates": est.tolist(), "variances": var.tolist(),
                  "slope": float(beta[1]), "se": se, "pValue": float(2 * stats.t.sf(abs(beta[1] / se), k_df))}

# Cochran's Q over two dimensions, Holm across them.
dims = {"country": ([0.10, 0.12, 0.55, 0.09, 0.11], [0.004, 0.005, 0.006, 0.004, 0.005]),
        "platform": ([0.15, 0.18, 0.12], [0.003, 0.004, 0.005])}
qres = []
for name, (e, v) in dims.items():
    e = np.array(e); v = np.array(v); w = 1 / v
    pooled = np.sum(w * e) / np.sum(w)
    q = float(np.sum(w * (e - pooled) ** 2))
    qres.append({"dimension": name, "estimates": e.tolist(), "variances": v.tolist(), "q": q,
                 "pValue": float(stats.chi2.sf(q, len(e) - 1)), "pooled": float(pooled)})
ps = np.array([r["pValue"] for r in qres]); order = np.argsort(ps); m = len(ps); running = 0.0
for j, idx in enumerate(order):
    running = max(running, min(1.0, (m - j) * ps[idx])); qres[idx]["holm"] = running
out["cochran"] = qres

# Post-stratification from raw arrays.
rng2 = np.random.default_rng(2013)
strata = []
est_t = est_c = var_ps = 0.0
N = 0
raw = []
for base, n_c, n_t in [(5.0, 400, 380), (10.0, 900, 950), (20.0, 300, 310), (40.0, 150, 140)]:
    c = base + rng2.normal(0, 2.0, n_c); t = base + 0.3 + rng2.normal(0, 2.0, n_t)
    raw.append((c, t)); N += n_c + n_t
for c, t in raw:
    W = (len(c) + len(t)) / N
    est_t += W * np.mean(t); est_c += W * np.mean(c)
    var_ps += W**2 * (np.var(t, ddof=1) / len(t) + np.var(c, ddof=1) / len(c))
    strata.append({"control": sums(c), "treatment": sums(t)})
out["postStratification"] = {"strata": strata, "estimate": float(est_t - est_c), "variance": float(var_ps)}

# Post-stratification after CUPED within the strata, from raw arrays: theta by least squares with
# cell dummies (Frisch-Waugh-Lovell: the pooled within-cell slope), then PS of y - theta*x.
rng4 = np.random.default_rng(2014)
cells = []
for base, n_c, n_t in [(5.0, 300, 320), (10.0, 700, 650), (20.0, 250, 240), (40.0, 120, 130)]:
    arms = []
    for n, lift in [(n_c, 0.0), (n_t, 0.3)]:
        x = base + rng4.normal(0, 1.5, n)
        y = base + lift + 0.9 * (x - base) + rng4.normal(0, 1.0, n)
        arms.append((x, y))
    cells.append(arms)
all_x = np.concatenate([a[0] for arms in cells for a in arms])
all_y = np.concatenate([a[1] for arms in cells for a in arms])
dummies = []
for j in range(2 * len(cells)):
    col = np.concatenate([np.full(len(a[0]), 1.0 if k == j else 0.0) for k, a in enumerate(a for arms in cells for a in arms)])
    dummies.append(col)
design = np.column_stack([all_x] + dummies)
theta = float(np.linalg.lstsq(design, all_y, rcond=None)[0][0])
N = all_x.size
est = var_ps = 0.0
strata_cov = []
for (xc, yc), (xt, yt) in cells:
    W = (len(yc) + len(yt)) / N
    ac, at = yc - theta * xc, yt - theta * xt
    est += W * (np.mean(at) - np.mean(ac))
    var_ps += W**2 * (np.var(at, ddof=1) / len(at) + np.var(ac, ddof=1) / len(ac))
    strata_cov.append({"control": cov_sums(xc, yc), "treatment": cov_sums(xt, yt)})
out["postStratifiedCuped"] = {"strata": strata_cov, "theta": theta, "estimate": float(est), "variance": float(var_ps)}

rng3 = np.random.default_rng(90010)
while True:
    c = np.minimum(np.exp(2 * rng3.standard_normal(9000)), math.exp(2 * 3.090232306167813))
    t = np.minimum(np.exp(2 * rng3.standard_normal(1000)), math.exp(2 * 3.090232306167813))
    welch_v = np.var(t, ddof=1) / len(t) + np.var(c, ddof=1) / len(c)
    pooled_v = np.var(np.concatenate([c, t]), ddof=1) * (1 / len(c) + 1 / len(t))
    if pooled_v > welch_v:  # the small arm drew few large values: the case the floor is for
        break
out["flooredMean"] = {"control": sums(c), "treatment": sums(t), "welch": float(welch_v), "pooled": float(pooled_v),
                      "variance": float(max(welch_v, pooled_v))}

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "verdict-reference-values.ts"), "w") as f:
    f.write("// GENERATED by libs/stats/test/reference/generate_verdicts.py (NumPy/SciPy) — do not edit by hand.\n")
    f.write("// Re-run: python3 libs/stats/test/reference/generate_verdicts.py && npx prettier --write <this file>\n")
    f.write("export const verdictReference = " + json.dumps(out, indent=2) + " as const;\n")
