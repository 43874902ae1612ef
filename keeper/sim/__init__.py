"""Wire-faithful simulated exchanges (OKX v5, Binance USD-M, Bybit v5) for tests, the demo and the bench: one
module per exchange, the HTTP server apart (``server``)."""
