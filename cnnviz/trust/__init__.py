"""Can we trust the map? Checks of the explanation methods themselves, on the class's own networks: cascading
model randomisation and data randomisation (Adebayo et al. 2018; ``randomisation``, ``data_randomisation``),
deletion and insertion curves (Petsiuk et al. 2018; ``faithfulness``) and the pointing game against the
gallery's boxes (``localisation``), over one evidence map per method (``evidence``)."""
