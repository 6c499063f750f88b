"""Core services: the workflows front ends call."""
