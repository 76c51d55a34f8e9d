#!/usr/bin/env python3
"""
Independent reference values for libs/stats, computed with NumPy/SciPy from *raw* data.

    python3 libs/stats/test/reference/generate.py   # rewrites reference-values.ts beside this file
    npx prettier --write libs/stats/test/reference/reference-values.ts

The TypeScript library only ever sees sufficient statistics (n, Σy, Σy², …), so each case stores
the sums of the raw arrays next to what SciPy/NumPy compute from those arrays directly:
  * Welch t-test:        scipy.stats.ttest_ind(treatment, control, equal_var=False) + .confidence_interval
  * relative lift:       delta method recomputed with numpy (np.var ddof=1) and scipy.stats.norm
  * two proportions:     pooled z and unpooled Wald CI from the counts with scipy.stats.norm
  * ratio metrics:       delta method from the raw (num, den) pairs with np.cov (ddof=1)
  * CUPED:               theta = np.cov(y, x)[0,1] / np.var(x, ddof=1) over all units, adjusted
                         arrays y - theta (x - mean x), then scipy Welch on the adjusted arrays
  * confidence sequence: Waudby-Smith et al. (2021) radius recomputed with numpy from the formula
  * mSPRT:               Johari et al. normal-mixture likelihood ratio recomputed with numpy
  * SRM:                 scipy.stats.chisquare(counts, f_exp)
  * BH:                  scipy.stats.false_discovery_control(p, method='bh')
  * sample sizes:        closed forms with scipy.stats.norm.ppf
  * winsorize:           np.percentile (linear) + np.clip
  * distributions:       scipy.stats.t / norm / chi2
SciPy 1.17 / NumPy 2.4 were used for the committed file.
"""
import json
import math
import os

import numpy as np
from scipy import stats

rng = np.random.default_rng(20260505)


def sums(y):
    y = np.asarray(y, dtype=float)
    return {"n": int(y.size), "sum": float(y.sum()), "sumSq": float((y * y).sum())}


def welch(c, t, alpha):
    r = stats.ttest_ind(t, c, equal_var=False)
    ci = r.confidence_interval(1 - alpha)
    return {"estimate": float(np.mean(t) - np.mean(c)), "t": float(r.statistic), "df": float(r.df),
            "pValue": float(r.pvalue), "ci": [float(ci.low), float(ci.high)]}


def rel_moments(c, t):
    mc, mt = np.mean(c), np.mean(t)
    var = np.var(t, ddof=1) / (len(t) * mc**2) + mt**2 * np.var(c, ddof=1) / (len(c) * mc**4)
    # Relative lift divides by abs(control mean) so the sign follows the absolute difference (issue 15).
    return (mt - mc) / abs(mc), var


def abs_moments(c, t):
    return np.mean(t) - np.mean(c), np.var(t, ddof=1) / len(t) + np.var(c, ddof=1) / len(c)


def relative(c, t, alpha):
    est, var = rel_moments(c, t)
    se = math.sqrt(var)
    z = est / se
    half = stats.norm.ppf(1 - alpha / 2) * se
    return {"estimate": float(est), "se": se, "pValue": float(2 * stats.norm.sf(abs(z))), "ci": [float(est - half), float(est + half)]}


def conf_seq(c, t, alpha, planned, rel, moments=None):
    est, var = moments if moments is not None else (rel_moments(c, t) if rel else abs_moments(c, t))
    se = math.sqrt(var)
    tt = (len(c) + len(t)) / 2
    rho2 = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / planned
    sigma = se * math.sqrt(tt)  # per-arm-unit sd of the contrast
    # Waudby-Smith et al. (2021) two-sided normal-mixture AsympCS radius, verbatim:
    radius = sigma * math.sqrt(2 * (tt * rho2 + 1) / (tt**2 * rho2) * math.log(math.sqrt(tt * rho2 + 1) / alpha))
    s = tt * rho2
    z = est / se
    p = min(1.0, math.sqrt(s + 1) * math.exp(-z * z * s / (2 * (s + 1))))
    return {"estimate": float(est), "rho": math.sqrt(rho2), "ci": [float(est - radius), float(est + radius)], "pValue": p}


def msprt(c, t, alpha, tau2, planned, rel, moments=None):
    est, v = moments if moments is not None else (rel_moments(c, t) if rel else abs_moments(c, t))
    tt = (len(c) + len(t)) / 2
    if tau2 is None:
        k = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(0.8)
        tau2 = k * k * v * tt / planned
    lam = math.sqrt(v / (v + tau2)) * math.exp(est**2 * tau2 / (2 * v * (v + tau2)))
    half = math.sqrt(2 * v * (v + tau2) / tau2 * math.log(math.sqrt((v + tau2) / v) / alpha))
    return {"estimate": float(est), "tau2": float(tau2), "logLikelihoodRatio": math.log(lam),
            "pValue": min(1.0, 1 / lam), "ci": [float(est - half), float(est + half)]}


def mean_case(name, c, t):
    c = np.asarray(c, dtype=float)
    t = np.asarray(t, dtype=float)
    return {
        "name": name,
        "control": sums(c),
        "treatment": sums(t),
        "welch05": welch(c, t, 0.05),
        "welch01": welch(c, t, 0.01),
        "relative05": relative(c, t, 0.05),
        "csAbs": conf_seq(c, t, 0.05, 5000, False),
        "csRel": conf_seq(c, t, 0.05, 5000, True),
        "csAbsPlanned300": conf_seq(c, t, 0.05, 300, False),
        "msprtAbsDefault": msprt(c, t, 0.05, None, 5000, False),
        "msprtAbsTau": msprt(c, t, 0.05, 0.01, 5000, False),
        "msprtRelDefault": msprt(c, t, 0.05, None, 2000, True),
    }


mean_cases = [
    mean_case("balanced normal", rng.normal(10, 2, 1000), rng.normal(10.2, 2, 1000)),
    mean_case("unequal arms, skewed", rng.lognormal(1, 1, 37), rng.lognormal(1.1, 0.8, 5000)),
    mean_case("tiny counts", [1.0, 4.0], [2.0, 7.0, 5.0]),
    mean_case("strong effect", rng.normal(3, 1, 500), rng.normal(3.6, 1.5, 300)),
    mean_case("negative control mean", rng.normal(-5, 3, 200), rng.normal(-4, 2, 150)),
]


def proportion_case(name, xc, nc, xt, nt):
    pc, pt = xc / nc, xt / nt
    pooled = (xc + xt) / (nc + nt)
    z = (pt - pc) / math.sqrt(pooled * (1 - pooled) * (1 / nc + 1 / nt))
    se = math.sqrt(pc * (1 - pc) / nc + pt * (1 - pt) / nt)
    half = stats.norm.ppf(0.975) * se
    return {"name": name, "control": {"n": nc, "sum": xc, "sumSq": xc}, "treatment": {"n": nt, "sum": xt, "sumSq": xt},
            "estimate": pt - pc, "z": z, "pValue": float(2 * stats.norm.sf(abs(z))), "ci": [pt - pc - half, pt - pc + half]}


proportion_cases = [
    proportion_case("balanced", 120, 1000, 150, 1000),
    proportion_case("tiny counts", 1, 5, 2, 3),
    proportion_case("unequal arms", 30, 20000, 45, 60000),
    proportion_case("strong effect", 100, 1000, 300, 1000),
]


def ratio_sums(num, den):
    return {"n": int(num.size), "sumNum": float(num.sum()), "sumNumSq": float((num * num).sum()),
            "sumDen": float(den.sum()), "sumDenSq": float((den * den).sum()), "sumNumDen": float((num * den).sum())}


def ratio_moments(num, den):
    n = num.size
    my, mx = num.mean(), den.mean()
    cov = np.cov(num, den, ddof=1)
    var = (cov[0, 0] / mx**2 - 2 * my * cov[0, 1] / mx**3 + my**2 * cov[1, 1] / mx**4) / n
    return my / mx, var


def ratio_case(name, cnum, cden, tnum, tden):
    cnum, cden, tnum, tden = (np.asarray(a, dtype=float) for a in (cnum, cden, tnum, tden))
    rc, vc = ratio_moments(cnum, cden)
    rt, vt = ratio_moments(tnum, tden)
    q = stats.norm.ppf(0.975)
    abs_est, abs_se = rt - rc, math.sqrt(vt + vc)
    rel_est = rt / rc - 1
    rel_se = math.sqrt(vt / rc**2 + rt**2 * vc / rc**4)
    abs_m, rel_m = (abs_est, abs_se**2), (rel_est, rel_se**2)
    return {"name": name, "control": ratio_sums(cnum, cden), "treatment": ratio_sums(tnum, tden),
            # Sequential ratio inference: the same CS / mSPRT formulas on the delta-method contrast.
            "csAbs": conf_seq(cnum, tnum, 0.05, 1000, False, abs_m),
            "csRel": conf_seq(cnum, tnum, 0.05, 1000, True, rel_m),
            "msprtAbsDefault": msprt(cnum, tnum, 0.05, None, 1000, False, abs_m),
            "absolute": {"estimate": abs_est, "pValue": float(2 * stats.norm.sf(abs(abs_est / abs_se))),
                         "ci": [abs_est - q * abs_se, abs_est + q * abs_se]},
            "relative": {"estimate": rel_est, "pValue": float(2 * stats.norm.sf(abs(rel_est / rel_se))),
                         "ci": [rel_est - q * rel_se, rel_est + q * rel_se]}}


def sessions_revenue(n, lift):
    den = rng.poisson(3, n) + 1.0
    num = den * rng.gamma(2.0, 5.0 * lift, n)
    return num, den


ratio_cases = [
    ratio_case("revenue per session, unequal arms", *sessions_revenue(800, 1.0), *sessions_revenue(1200, 1.05)),
    ratio_case("tiny counts", [1.0, 3.0, 2.0], [1.0, 2.0, 2.0], [4.0, 0.0, 2.0, 5.0], [2.0, 1.0, 1.0, 3.0]),
]


def cuped_case():
    ns = [500, 700, 40]
    lifts = [0.0, 0.5, -0.3]
    xs, ys = [], []
    for n, lift in zip(ns, lifts):
        x = rng.normal(20, 4, n)
        y = 5 + 0.8 * x + rng.normal(0, 2, n) + lift
        xs.append(x)
        ys.append(y)
    allx, ally = np.concatenate(xs), np.concatenate(ys)
    theta = np.cov(ally, allx, ddof=1)[0, 1] / np.var(allx, ddof=1)
    adj = [y - theta * (x - allx.mean()) for x, y in zip(xs, ys)]
    arms = [{**sums(y), "covSum": float(x.sum()), "covSumSq": float((x * x).sum()), "crossSum": float((x * y).sum())}
            for x, y in zip(xs, ys)]
    return {"arms": arms, "theta": float(theta), "covariateMean": float(allx.mean()),
            "adjustedMeans": [float(a.mean()) for a in adj], "adjustedVariances": [float(np.var(a, ddof=1)) for a in adj],
            "varianceReduction": [float(1 - np.var(a, ddof=1) / np.var(y, ddof=1)) for a, y in zip(adj, ys)],
            "welchArm1": welch(adj[0], adj[1], 0.05), "welchArm2": welch(adj[0], adj[2], 0.05)}


def srm_case(counts, weights):
    w = np.asarray(weights, dtype=float)
    exp = np.asarray(counts).sum() * w / w.sum()
    r = stats.chisquare(counts, exp)
    return {"counts": counts, "weights": weights, "chiSquare": float(r.statistic), "pValue": float(r.pvalue)}


srm_cases = [
    srm_case([5000, 5100], [1, 1]),
    srm_case([1000, 1050, 2100], [1, 1, 2]),
    srm_case([50000, 51500], [50, 50]),
    srm_case([10000, 12000], [1, 1]),
    srm_case([3, 1], [1, 1]),
    srm_case([812, 790, 805, 850, 760, 799], [1, 1, 1, 1, 1, 1]),
    srm_case([9000, 1000], [0.9, 0.1]),
]

bh_inputs = [
    [0.01, 0.02, 0.03, 0.04, 0.05],
    [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216],
    [0.5, 0.01, 0.5, 0.2, 0.01, 1.0, 0.0001],
    [0.9],
]
bh_cases = [{"pValues": p, "adjusted": [float(v) for v in stats.false_discovery_control(p, method="bh")]} for p in bh_inputs]


def cs_multiplier(alpha):
    l = -2 * math.log(alpha)
    s = l + math.log(l + 1)
    return math.sqrt(2 * (s + 1) / s * math.log(math.sqrt(s + 1) / alpha))


def sample_size_case(opts):
    alpha, power, mde = opts.get("alpha", 0.05), opts.get("power", 0.8), opts["mde"]
    if "baselineRate" in opts:
        p = opts["baselineRate"]
        q = p * (1 + mde)
        delta, var_sum = q - p, p * (1 - p) + q * (1 - q)
    else:
        delta, var_sum = mde * opts["baselineMean"], 2 * opts["baselineSd"] ** 2
    zb = stats.norm.ppf(power)
    fixed = (stats.norm.ppf(1 - alpha / 2) + zb) ** 2 * var_sum / delta**2
    seq = (cs_multiplier(alpha) + zb) ** 2 * var_sum / delta**2
    return {"options": opts, "fixedRaw": fixed, "fixed": math.ceil(fixed), "sequentialRaw": seq, "sequential": math.ceil(seq)}


sample_size_cases = [
    sample_size_case({"baselineMean": 10, "baselineSd": 2, "mde": 0.03}),
    sample_size_case({"baselineRate": 0.1, "mde": 0.05}),
    sample_size_case({"baselineRate": 0.02, "mde": -0.1, "alpha": 0.01, "power": 0.9}),
    sample_size_case({"baselineMean": 50, "baselineSd": 120, "mde": 0.02, "power": 0.95}),
]

w_values = np.round(rng.lognormal(2, 1.5, 101), 6)
winsorize_case = {"values": [float(v) for v in w_values], "upper": 0.99, "lower": 0.01,
                  "upperThreshold": float(np.percentile(w_values, 99)), "lowerThreshold": float(np.percentile(w_values, 1)),
                  "winsorized": [float(v) for v in np.clip(w_values, np.percentile(w_values, 1), np.percentile(w_values, 99))]}

distributions = {
    "tQuantile": [{"p": p, "df": df, "value": float(stats.t.ppf(p, df))} for p, df in [(0.975, 1), (0.975, 2.5), (0.995, 10), (0.975, 1000.5),
                                                                                  # df >= 500 takes the Cornish-Fisher path
                                                                                  (0.975, 500), (0.9995, 500), (0.99999995, 650.5), (0.025, 3998.2), (0.6, 1e6), (0.5, 800)]],
    "tTwoSided": [{"t": t, "df": df, "value": float(2 * stats.t.sf(abs(t), df))} for t, df in [(2.1, 3), (-0.3, 12.7), (8.0, 40), (25.0, 200)]],
    "zQuantile": [{"p": p, "value": float(stats.norm.ppf(p))} for p in [0.975, 0.995, 0.8, 0.999999]],
    "chiSquareSurvival": [{"x": x, "df": df, "value": float(stats.chi2.sf(x, df))} for x, df in [(0.5, 1), (3.84, 1), (20, 2), (200, 1), (15, 5), (400, 7)]],
}

reference = {
    "meanCases": mean_cases,
    "proportionCases": proportion_cases,
    "ratioCases": ratio_cases,
    "cuped": cuped_case(),
    "srmCases": srm_cases,
    "bhCases": bh_cases,
    "sampleSizeCases": sample_size_cases,
    "winsorize": winsorize_case,
    "distributions": distributions,
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference-values.ts")
with open(out, "w") as f:
    f.write("// GENERATED by libs/stats/test/reference/generate.py (NumPy/SciPy) — do not edit by hand.\n")
    f.write("// Re-run: python3 libs/stats/test/reference/generate.py && npx prettier --write <this file>\n")
    f.write("export const reference = " + json.dumps(reference, indent=1) + ";\n")
print("wrote", out)
