"""Can we trust the map? Checks of the explanation methods themselves: how much of the class probability the
pixels a map ranks highest carry (deletion and insertion curves, Petsiuk et al. 2018)."""
