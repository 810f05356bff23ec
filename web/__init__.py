"""Pages and assets served by the server itself: nothing comes from a CDN."""
