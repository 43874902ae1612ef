"""A wire-faithful simulated OKX v5 / Binance USD-M exchange for tests and demos."""
