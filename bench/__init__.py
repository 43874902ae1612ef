"""The benchmarks (``make bench``, ``make bench-burst``, ``make bench-scale-out``), run as
``python -m bench.NAME`` from the checkout's root; bench/README.md says what each measures."""
