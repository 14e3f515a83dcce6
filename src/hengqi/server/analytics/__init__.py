"""Regulator statistics over Parquet partitions by region and month, on an embedded DuckDB or on a Dask cluster.

* :mod:`.partitions`: the layout of the files and the writer of the synthetic province;
* :mod:`.definitions`: each statistic defined once, as a DuckDB query of counts run on a set of partitions, a
  sum of those counts, and the pure finalisation of :mod:`hengqi.supervision.statistics`;
* :mod:`.engines`: where the queries run: in this process (``embedded``) or on ``dask://host:port`` /
  ``dask://local`` (a :class:`distributed.LocalCluster`).
"""
