"""One planner per ecosystem: each returns the :class:`~slimgate.fix.shape.Shape` of its
community's documented multi-stage build."""
