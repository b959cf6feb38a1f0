"""The village LAN: mDNS adverts and the table of STBs the edge can see, with the TXT record rules."""
