"""Front-ends: the `textsort` command, the loopback HTTP endpoint, classify-dataset on Ray."""
