"""Helpers shared by the tests and the benchmarks: servers to start and a client that speaks Streamlit's protocol."""
