package jaxwspeer;

import java.util.Map;
import javax.jws.WebService;
import javax.xml.namespace.QName;
import javax.xml.soap.SOAPConstants;
import javax.xml.soap.SOAPException;
import javax.xml.soap.SOAPFactory;
import javax.xml.soap.SOAPFault;
import javax.xml.ws.soap.SOAPFaultException;
import riv.strategicresourcemanagement.persons.person._5.AddressInformationType;
import riv.strategicresourcemanagement.persons.person._5.ContactInformationType;
import riv.strategicresourcemanagement.persons.person._5.IIType;
import riv.strategicresourcemanagement.persons.person._5.LookupProfileType;
import riv.strategicresourcemanagement.persons.person._5.NameType;
import riv.strategicresourcemanagement.persons.person._5.PersonRecordType;
import riv.strategicresourcemanagement.persons.person._5.RequestedPersonRecordType;
import riv.strategicresourcemanagement.persons.person._5.ResidentialAddressType;
import riv.strategicresourcemanagement.persons.person.getpersonsforprofile._5.rivtabp21.GetPersonsForProfileResponderInterface;
import riv.strategicresourcemanagement.persons.person.getpersonsforprofileresponder._5.GetPersonsForProfileResponseType;
import riv.strategicresourcemanagement.persons.person.getpersonsforprofileresponder._5.GetPersonsForProfileType;

/**
 * GetPersonsForProfile from the wsimport-generated SEI, answered from memory: no audit,
 * no store, no authorisation. P1 carries identity, flags and name, P2 adds the address,
 * P3 (and P4/P5, which the synthetic persons have nothing more for) adds the contact
 * entries. An unknown identity is echoed without a personRecord.
 */
@WebService(
        serviceName = "GetPersonsForProfileResponderService",
        portName = "GetPersonsForProfileResponderPort",
        targetNamespace = "urn:riv:strategicresourcemanagement:persons:person:GetPersonsForProfile:5:rivtabp21",
        endpointInterface =
                "riv.strategicresourcemanagement.persons.person.getpersonsforprofile._5.rivtabp21.GetPersonsForProfileResponderInterface",
        // Served as published (with its XSD imports) rather than regenerated from the
        // annotations, as an integrator building from the contract would.
        wsdlLocation = "wsdl/GetPersonsForProfileInteraction_5.0_RIVTABP21.wsdl")
public class PersonsForProfile implements GetPersonsForProfileResponderInterface {
    private static final String PERSONNUMMER_ROOT = "1.2.752.129.2.1.3.1";

    private final Map<String, Person> people;

    PersonsForProfile(Map<String, Person> people) {
        this.people = people;
    }

    @Override
    public GetPersonsForProfileResponseType getPersonsForProfile(
            String logicalAddress, GetPersonsForProfileType request) {
        Detail detail = detailOf(request.getProfile());
        GetPersonsForProfileResponseType response = new GetPersonsForProfileResponseType();
        for (IIType id : request.getPersonId()) {
            response.getRequestedPersonRecord().add(answer(id, detail));
        }
        return response;
    }

    /** How much of a record a profile shows. */
    private enum Detail {
        NAME,
        ADDRESS,
        CONTACT
    }

    private static Detail detailOf(LookupProfileType profile) {
        if (profile == null) {
            throw clientFault("profile is missing");
        }
        switch (profile) {
            case P_1:
                return Detail.NAME;
            case P_2:
                return Detail.ADDRESS;
            case P_3:
            case P_4:
            case P_5:
                return Detail.CONTACT;
            default:
                throw clientFault("profile " + profile.value() + " is not served: use P1 to P5");
        }
    }

    private RequestedPersonRecordType answer(IIType id, Detail detail) {
        RequestedPersonRecordType requested = new RequestedPersonRecordType();
        requested.setRequestedPersonalIdentity(id);
        Person person = id.getExtension() == null ? null : people.get(id.getExtension());
        if (person != null) {
            requested.setPersonRecord(record(person, detail));
        }
        return requested;
    }

    private static PersonRecordType record(Person person, Detail detail) {
        PersonRecordType record = new PersonRecordType();
        record.setPersonalIdentity(personnummer(person.id()));
        record.setProtectedPersonIndicator(false);
        record.setTestIndicator(true);
        record.setPrimaryIdentity(true);
        record.setName(name(person));
        if (detail != Detail.NAME) {
            record.setAddressInformation(address(person));
        }
        if (detail == Detail.CONTACT) {
            record.getContactInformation().add(contact("sms", person.sms()));
            record.getContactInformation().add(contact("email", person.email()));
        }
        record.setProtectedPopulationRecord(false);
        return record;
    }

    private static IIType personnummer(String extension) {
        IIType id = new IIType();
        id.setRoot(PERSONNUMMER_ROOT);
        id.setExtension(extension);
        return id;
    }

    private static NameType name(Person person) {
        NameType name = new NameType();
        name.setGivenName(person.givenName());
        name.setSurname(person.surname());
        return name;
    }

    private static AddressInformationType address(Person person) {
        ResidentialAddressType residential = new ResidentialAddressType();
        residential.setPostalAddress2(person.street());
        residential.setPostalCode(person.postalCode());
        residential.setCity(person.city());
        AddressInformationType address = new AddressInformationType();
        address.setResidentialAddress(residential);
        return address;
    }

    private static ContactInformationType contact(String type, String value) {
        ContactInformationType contact = new ContactInformationType();
        contact.setContactType(type);
        contact.setValue(value);
        contact.setDigitalNotification(true);
        return contact;
    }

    private static SOAPFaultException clientFault(String text) {
        try {
            SOAPFault fault = SOAPFactory.newInstance()
                    .createFault(text, new QName(SOAPConstants.URI_NS_SOAP_ENVELOPE, "Client"));
            return new SOAPFaultException(fault);
        } catch (SOAPException e) {
            throw new IllegalStateException("cannot build a SOAP fault", e);
        }
    }
}
