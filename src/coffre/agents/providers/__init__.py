"""The agents Coffre ships, one module per kind of agent (each registered in coffre.agents.catalog)."""
