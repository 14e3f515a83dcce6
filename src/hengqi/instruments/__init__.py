"""Talking to scales: transports, protocol codecs, the Scale interface, the simulator. Imports metrology only."""
