"""Regional demand forecasting (Prophet, XGBoost, ensembles, hierarchy). Engine: see issue 3."""
