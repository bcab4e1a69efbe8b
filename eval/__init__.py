"""Offline step-accuracy evaluation: runs, metrics, reports, comparisons."""
