"""Raw screenshot episodes for training: conversion, statistics, synthesis, datasets, veRL export."""
