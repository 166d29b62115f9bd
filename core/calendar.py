"""An .ics file for an intake appointment, with an alarm."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Alarm, Calendar, Event

from core.booking import Booking


def booking_ics(booking: Booking, summary: str, location: str, description: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Lotse//intake//DE")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{booking.reference}@lotse")
    event.add("dtstamp", booking.created_at)
    event.add("dtstart", booking.starts_at)
    event.add("dtend", booking.ends_at)
    event.add("summary", summary)
    event.add("location", location)
    event.add("description", description)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", timedelta(hours=-2))
    event.add_component(alarm)
    calendar.add_component(event)
    return calendar.to_ical()
