"""Financial machine learning, pure numpy/scipy (López de Prado, "Advances in Financial Machine Learning").

features   named, versioned feature sets; every row at t uses data up to t only
fracdiff   fixed-width fractional differentiation, the ADF test, the minimum d that passes it
labels     fixed-horizon and triple-barrier labels (volatility-scaled barriers)
weights    concurrency, average uniqueness, return-attribution sample weights, time decay
cv         purged k-fold and combinatorial purged CV, with embargo
metrics    AUC, log-loss, precision/recall/F1, accuracy by class
metalabel  meta-labels of a primary model's signals and bet sizing from the meta model's probability
"""
