package jaxwspeer;

/** One synthetic person as the peer holds it: plain fields, mapped to JAXB per request. */
record Person(
        String id,
        String givenName,
        String surname,
        String street,
        int postalCode,
        String city,
        String sms,
        String email) {}
