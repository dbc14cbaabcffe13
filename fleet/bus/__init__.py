"""ZeroMQ transport for the VDA 5050 messages: fleet server, robot client, viewer client."""
