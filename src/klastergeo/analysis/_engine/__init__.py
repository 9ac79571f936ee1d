"""The compiled engine (numba, cached): permutation counts (:mod:`.kernels`), local
statistics from them (:mod:`.local`), contiguity by shared vertices and edges
(:mod:`.contiguity`), and the compilation at install (:mod:`.compile`). Private: the
public face is :mod:`klastergeo.analysis.autocorrelation` and :mod:`klastergeo.analysis.weights`."""
