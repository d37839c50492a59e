"""Other systems' regression rules, reimplemented or imported for benchmarks/detector_peers.py.

Each module scores the judged (last) run of a history; higher scores are more alarming, and a
peer alarms when the score reaches its threshold. Never imported by the bench package.
"""
