"""bench: speed, memory and accuracy of one small network in PyTorch and TensorFlow.

The package never imports Airflow; heavy frameworks are imported only inside the functions
that need them, so `import bench` stays cheap for DAG parsing.
"""

from __future__ import annotations

__version__ = "0.1.0"
