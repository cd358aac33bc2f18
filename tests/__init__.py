"""cnnviz tests (a regular package: horama's wheel installs a top-level ``tests`` package into site-packages,
which would otherwise shadow this one)."""
