#!/usr/bin/env python3
"""Generates src/deidentify/profile.rs: the Basic Application Level Confidentiality
Profile of DICOM PS3.15 Table E.1-1, action codes of the "Basic Prof." column, and
the option columns (retain and clean options) of the same table.

The rows below were transcribed from `standard/confidentiality_profile_attributes.json`
of https://github.com/innolitics/dicom-standard (MIT licence), an extraction of
PS3.15 Table E.1-1. Rows whose tag is a pattern (private attributes, curve data
50xx, overlay 60xx) are handled in code, not in the table. The output is committed;
CI never runs this.

    python3 tools/gen_deid_profile.py     # from the crate directory
"""

import pathlib

CRATE = pathlib.Path(__file__).resolve().parent.parent

ROWS = """
0008,0050 Z Accession Number
0018,4000 X Acquisition Comments
0040,0555 X/Z Acquisition Context Sequence
0008,0022 X/Z Acquisition Date
0008,002A X/Z/D Acquisition DateTime
0018,1400 X/D Acquisition Device Processing Description
0018,11BB D Acquisition Field Of View Label
0018,9424 X Acquisition Protocol Description
0008,0032 X/Z Acquisition Time
0040,4035 X Actual Human Performers Sequence
0010,21B0 X Additional Patient History
0040,A353 X Address (Trial)
0038,0010 X Admission ID
0038,0020 X Admitting Date
0008,1084 X Admitting Diagnoses Code Sequence
0008,1080 X Admitting Diagnoses Description
0038,0021 X Admitting Time
0000,1000 X Affected SOP Instance UID
0010,2110 X Allergies
4000,0010 X Arbitrary
0040,A078 X Author Observer Sequence
2200,0005 X/Z Barcode Value
300A,00C3 X Beam Description
300A,00DD X Bolus Description
0010,1081 X Branch of Service
0016,004D X Camera Owner Name
0018,1007 X Cassette ID
0012,0060 Z Clinical Trial Coordinating Center Name
0012,0082 X Clinical Trial Protocol Ethics Committee Approval Number
0012,0081 D Clinical Trial Protocol Ethics Committee Name
0012,0020 D Clinical Trial Protocol ID
0012,0021 Z Clinical Trial Protocol Name
0012,0072 X Clinical Trial Series Description
0012,0071 X Clinical Trial Series ID
0012,0030 Z Clinical Trial Site ID
0012,0031 Z Clinical Trial Site Name
0012,0010 D Clinical Trial Sponsor Name
0012,0040 D Clinical Trial Subject ID
0012,0042 D Clinical Trial Subject Reading ID
0012,0051 X Clinical Trial Time Point Description
0012,0050 Z Clinical Trial Time Point ID
0040,0310 X Comments on Radiation Dose
0040,0280 X Comments on the Performed Procedure Step
300A,02EB X Compensator Description
0020,9161 U Concatenation UID
3010,000F Z Conceptual Volume Combination Description
3010,0017 Z Conceptual Volume Description
3010,0006 U Conceptual Volume UID
0040,3001 X Confidentiality Constraint on Patient Data Description
3010,0013 U Constituent Conceptual Volume UID
0008,009C Z Consulting Physician's Name
0008,009D X Consulting Physician Identification Sequence
0050,001B X Container Component ID
0040,051A X Container Description
0040,0512 D Container Identifier
0070,0086 X Content Creator's Identification Code Sequence
0070,0084 Z/D Content Creator's Name
0008,0023 Z/D Content Date
0040,A730 D Content Sequence
0008,0033 Z/D Content Time
0018,0010 Z/D Contrast/Bolus Agent
0018,A003 X Contribution Description
0010,2150 X Country of Residence
0040,A307 X Current Observer (Trial)
0038,0300 X Current Patient Location
0008,0025 X Curve Date
0008,0035 X Curve Time
0040,A07C X Custodial Organization Sequence
FFFC,FFFC X Data Set Trailing Padding
0018,937F X Decomposition Description
0008,2111 X Derivation Description
0018,700A X/D Detector ID
3010,001B Z Device Alternate Identifier
0050,0020 X Device Description
3010,002D D Device Label
0018,1000 X/Z/D Device Serial Number
0016,004B X Device Setting Description
0018,1002 U Device UID
FFFA,FFFA X Digital Signatures Sequence
0400,0100 U Digital Signature UID
0020,9164 U Dimension Organization UID
0038,0040 X Discharge Diagnosis Description
4008,011A X Distribution Address
4008,0119 X Distribution Name
300A,0016 X Dose Reference Description
300A,0013 U Dose Reference UID
3010,006E U Dosimetric Objective UID
0018,9517 X/D End Acquisition DateTime
3010,0037 X Entity Description
3010,0035 D Entity Label
3010,0038 D Entity Long Label
3010,0036 X Entity Name
300A,0676 X Equipment Frame of Reference Description
0010,2160 X Ethnic Group
0040,4011 X Expected Completion DateTime
0008,0058 U Failed SOP Instance UID List
0070,031A U Fiducial UID
0040,2017 Z Filler Order Number / Imaging Service Request
3008,0054 X/D First Treatment Date
300A,0196 X Fixation Device Description
0034,0002 D Flow Identifier
0034,0001 D Flow Identifier Sequence
3010,007F Z Fractionation Notes
300A,0072 X Fraction Group Description
0020,9158 X Frame Comments
0020,0052 U Frame of Reference UID
0034,0007 D Frame Origin Timestamp
0018,1008 X Gantry ID
0018,1005 X Generator ID
0016,0076 X GPS Altitude
0016,0075 X GPS Altitude Ref
0016,008C X GPS Area Information
0016,008D X GPS Date Stamp
0016,0088 X GPS Dest Bearing
0016,0087 X GPS Dest Bearing Ref
0016,008A X GPS Dest Distance
0016,0089 X GPS Dest Distance Ref
0016,0084 X GPS Dest Latitude
0016,0083 X GPS Dest Latitude Ref
0016,0086 X GPS Dest Longitude
0016,0085 X GPS Dest Longitude Ref
0016,008E X GPS Differential
0016,007B X GPS DOP
0016,0081 X GPS Img Direction
0016,0080 X GPS Img Direction Ref
0016,0072 X GPS Latitude
0016,0071 X GPS Latitude Ref
0016,0074 X GPS Longitude
0016,0073 X GPS Longitude Ref
0016,0082 X GPS Map Datum
0016,007A X GPS Measure Mode
0016,008B X GPS Processing Method
0016,0078 X GPS Satellites
0016,007D X GPS Speed
0016,007C X GPS Speed Ref
0016,0079 X GPS Status
0016,0077 X GPS Time Stamp
0016,007F X GPS Track
0016,007E X GPS Track Ref
0016,0070 X GPS Version ID
0070,0001 D Graphic Annotation Sequence
0040,4037 X Human Performer's Name
0040,4036 X Human Performer's Organization
0088,0200 X Icon Image Sequence
0008,4000 X Identifying Comments
0020,4000 X Image Comments
0028,4000 X Image Presentation Comments
0040,2400 X Imaging Service Request Comments
003A,0314 D Impedance Measurement DateTime
4008,0300 X Impressions
0008,0015 X Instance Coercion DateTime
0008,0014 U Instance Creator UID
0400,0600 X Instance Origin Status
0008,0081 X Institution Address
0008,1040 X Institutional Department Name
0008,1041 X Institutional Department Type Code Sequence
0008,0082 X/Z/D Institution Code Sequence
0008,0080 X/Z/D Institution Name
0010,1050 X Insurance Plan Identification
3010,004D X/D Intended Phase End Date
3010,004C X/D Intended Phase Start Date
0040,1011 X Intended Recipients of Results Identification Sequence
300A,0741 D Interlock DateTime
300A,0742 D Interlock Description
300A,0783 D Interlock Origin Description
4008,0111 X Interpretation Approver Sequence
4008,010C X Interpretation Author
4008,0115 X Interpretation Diagnosis Description
4008,0202 X Interpretation ID Issuer
4008,0102 X Interpretation Recorder
4008,010B X Interpretation Text
4008,010A X Interpretation Transcriber
0008,3010 U Irradiation Event UID
0038,0011 X Issuer of Admission ID
0038,0014 X Issuer of Admission ID Sequence
0010,0021 X Issuer of Patient ID
0038,0061 X Issuer of Service Episode ID
0038,0064 X Issuer of Service Episode ID Sequence
0040,0513 Z Issuer of the Container Identifier Sequence
0040,0562 Z Issuer of the Specimen Identifier Sequence
2200,0002 X/Z Label Text
0028,1214 U Large Palette Color Lookup Table UID
0010,21D0 X Last Menstrual Date
0016,004F X Lens Make
0016,0050 X Lens Model
0016,0051 X Lens Serial Number
0016,004E X Lens Specification
0050,0021 X Long Device Description
0400,0404 X MAC
0016,002B X Maker Note
0018,100B U Manufacturer's Device Class UID
3010,0043 Z Manufacturer's Device Identifier
0002,0003 U Media Storage SOP Instance UID
0010,2000 X Medical Alerts
0010,1090 X Medical Record Locator
0010,1080 X Military Rank
0400,0550 X Modified Attributes Sequence
0020,3406 X Modified Image Description
0020,3401 X Modifying Device ID
3008,0056 X/D Most Recent Treatment Date
0018,937B X Multi-energy Acquisition Description
003A,0310 U Multiplex Group UID
0008,1060 X Name of Physician(s) Reading Study
0040,1010 X Names of Intended Recipients of Results
0400,0551 X Nonconforming Modified Attributes Sequence
0400,0552 X Nonconforming Data Element Value
0040,A192 X Observation Date (Trial)
0040,A402 U Observation Subject UID (Trial)
0040,A193 X Observation Time (Trial)
0040,A171 U Observation UID
0010,2180 X Occupation
0008,1072 X/D Operator Identification Sequence
0008,1070 X/Z/D Operators' Name
0040,2010 X Order Callback Phone Number
0040,2011 X Order Callback Telecom Information
0040,2008 X Order Entered By
0040,2009 X Order Enterer's Location
0400,0561 X Original Attributes Sequence
0010,1000 X Other Patient IDs
0010,1002 X Other Patient IDs Sequence
0010,1001 X Other Patient Names
0008,0024 X Overlay Date
0008,0034 X Overlay Time
300A,0760 D Override DateTime
0028,1199 U Palette Color Lookup Table UID
0040,A07A X Participant Sequence
0010,1040 X Patient's Address
0010,1010 X Patient's Age
0010,0030 Z Patient's Birth Date
0010,1005 X Patient's Birth Name
0010,0032 X Patient's Birth Time
0038,0400 X Patient's Institution Residence
0010,0050 X Patient's Insurance Plan Code Sequence
0010,1060 X Patient's Mother's Birth Name
0010,0010 Z Patient's Name
0010,0101 X Patient's Primary Language Code Sequence
0010,0102 X Patient's Primary Language Modifier Code Sequence
0010,21F0 X Patient's Religious Preference
0010,0040 Z Patient's Sex
0010,2203 X/Z Patient's Sex Neutered
0010,1020 X Patient's Size
0010,2155 X Patient's Telecom Information
0010,2154 X Patient's Telephone Numbers
0010,1030 X Patient's Weight
0010,4000 X Patient Comments
0010,0020 Z Patient ID
300A,0650 U Patient Setup UID
0038,0500 X Patient State
0040,1004 X Patient Transport Arrangements
0040,0243 X Performed Location
0040,0254 X Performed Procedure Step Description
0040,0250 X Performed Procedure Step End Date
0040,4051 X Performed Procedure Step End DateTime
0040,0251 X Performed Procedure Step End Time
0040,0253 X Performed Procedure Step ID
0040,0244 X Performed Procedure Step Start Date
0040,4050 X Performed Procedure Step Start DateTime
0040,0245 X Performed Procedure Step Start Time
0040,0241 X Performed Station AE Title
0040,4030 X Performed Station Geographic Location Code Sequence
0040,0242 X Performed Station Name
0040,4028 X Performed Station Name Code Sequence
0008,1050 X Performing Physician's Name
0008,1052 X Performing Physician Identification Sequence
0040,1102 X Person's Address
0040,1104 X Person's Telecom Information
0040,1103 X Person's Telephone Numbers
0040,1101 D Person Identification Code Sequence
0040,A123 D Person Name
0008,1048 X Physician(s) of Record
0008,1049 X Physician(s) of Record Identification Sequence
0008,1062 X Physician(s) Reading Study Identification Sequence
4008,0114 X Physician Approving Interpretation
0040,2016 Z Placer Order Number / Imaging Service Request
0018,1004 X Plate ID
0010,21C0 X Pregnancy Status
0040,0012 X Pre-Medication
300A,000E X Prescription Description
3010,007B Z Prescription Notes
3010,0081 Z Prescription Notes Sequence
0070,1101 U Presentation Display Collection UID
0070,1102 U Presentation Sequence Collection UID
3010,0061 X Prior Treatment Dose Description
0040,4052 X Procedure Step Cancellation DateTime
0018,1030 X/D Protocol Name
300A,0619 D Radiation Dose Identification Label
300A,0623 D Radiation Dose In-Vivo Measurement Label
300A,067D Z Radiation Generation Mode Description
300A,067C D Radiation Generation Mode Label
300C,0113 X Reason for Omission Description
0040,100A X Reason for Requested Procedure Code Sequence
0032,1030 X Reason for Study
3010,005C Z Reason for Superseding
0040,2001 X Reason for the Imaging Service Request
0040,1002 X Reason for the Requested Procedure
0032,1066 X Reason for Visit
0032,1067 X Reason for Visit Code Sequence
300A,073A D Recorded RT Control Point DateTime
3010,000B U Referenced Conceptual Volume UID
0400,0402 X Referenced Digital Signature Sequence
300A,0083 U Referenced Dose Reference UID
3010,006F U Referenced Dosimetric Objective UID
3010,0031 U Referenced Fiducials UID
3006,0024 U Referenced Frame of Reference UID
0040,4023 U Referenced General Purpose Scheduled Procedure Step Transaction UID
0008,1140 X/Z/U* Referenced Image Sequence
0040,A172 U Referenced Observation UID (Trial)
0038,0004 X Referenced Patient Alias Sequence
0010,1100 X Referenced Patient Photo Sequence
0008,1120 X Referenced Patient Sequence
0008,1111 X/Z/D Referenced Performed Procedure Step Sequence
0400,0403 X Referenced SOP Instance MAC Sequence
0008,1155 U Referenced SOP Instance UID
0004,1511 U Referenced SOP Instance UID in File
0008,1110 X/Z Referenced Study Sequence
0008,0092 X Referring Physician's Address
0008,0090 Z Referring Physician's Name
0008,0094 X Referring Physician's Telephone Numbers
0008,0096 X Referring Physician Identification Sequence
0010,2152 X Region of Residence
3006,00C2 U Related Frame of Reference UID
0040,0275 X Request Attributes Sequence
0032,1070 X Requested Contrast Agent
0040,1400 X Requested Procedure Comments
0032,1060 X/Z Requested Procedure Description
0040,1001 X Requested Procedure ID
0040,1005 X Requested Procedure Location
0018,9937 X Requested Series Description
0000,1001 U Requested SOP Instance UID
0032,1032 X Requesting Physician
0032,1033 X Requesting Service
0018,9185 X Respiratory Motion Compensation Technique Description
0010,2299 X Responsible Organization
0010,2297 X Responsible Person
4008,4000 X Results Comments
4008,0118 X Results Distribution List Sequence
4008,0042 X Results ID Issuer
300E,0008 X/Z Reviewer Name
3006,0028 X ROI Description
3006,0038 X ROI Generation Description
3006,00A6 Z ROI Interpreter
3006,0026 Z ROI Name
3006,0088 X ROI Observation Description
3006,0085 X ROI Observation Label
300A,0615 Z RT Accessory Device Slot ID
300A,0611 Z RT Accessory Holder Slot ID
3010,005A Z RT Physician Intent Narrative
300A,0006 X/D RT Plan Date
300A,0004 X RT Plan Description
300A,0002 D RT Plan Label
300A,0003 X RT Plan Name
300A,0007 X/D RT Plan Time
3010,0054 D RT Prescription Label
300A,062A D RT Tolerance Set Label
3010,0056 X/D RT Treatment Approach Label
3010,003B U RT Treatment Phase UID
0040,4034 X Scheduled Human Performers Sequence
0038,001E X Scheduled Patient Institution Residence
0040,0006 X Scheduled Performing Physician's Name
0040,000B X Scheduled Performing Physician Identification Sequence
0040,0007 X Scheduled Procedure Step Description
0040,0004 X Scheduled Procedure Step End Date
0040,0005 X Scheduled Procedure Step End Time
0040,4008 X Scheduled Procedure Step Expiration DateTime
0040,0009 X Scheduled Procedure Step ID
0040,0011 X Scheduled Procedure Step Location
0040,4010 X Scheduled Procedure Step Modification DateTime
0040,0002 X Scheduled Procedure Step Start Date
0040,4005 X Scheduled Procedure Step Start DateTime
0040,0003 X Scheduled Procedure Step Start Time
0040,0001 X Scheduled Station AE Title
0040,4027 X Scheduled Station Geographic Location Code Sequence
0040,0010 X Scheduled Station Name
0040,4025 X Scheduled Station Name Code Sequence
0032,1020 X Scheduled Study Location
0032,1021 X Scheduled Study Location AE Title
0008,0021 X/D Series Date
0008,103E X Series Description
0020,000E U Series Instance UID
0008,0031 X/D Series Time
0038,0062 X Service Episode Description
0038,0060 X Service Episode ID
300A,01B2 X Setup Technique Description
300A,01A6 X Shielding Device Description
0040,06FA X Slide Identifier
0010,21A0 X Smoking Status
0008,0018 U SOP Instance UID
3010,0015 U Source Conceptual Volume UID
0018,936A D Source End DateTime
0034,0005 D Source Identifier
0008,2112 X/Z/U* Source Image Sequence
300A,0216 X Source Manufacturer
3008,0105 X/Z Source Serial Number
0018,9369 D Source Start DateTime
0038,0050 X Special Needs
0040,050A X Specimen Accession Number
0040,0602 X Specimen Detailed Description
0040,0551 D Specimen Identifier
0040,0610 Z Specimen Preparation Sequence
0040,0600 X Specimen Short Description
0040,0554 U Specimen UID
0018,9516 X/D Start Acquisition DateTime
0008,1010 X/Z/D Station Name
0088,0140 U Storage Media File-set UID
3006,0008 Z Structure Set Date
3006,0006 X Structure Set Description
3006,0002 D Structure Set Label
3006,0004 X Structure Set Name
3006,0009 X/D Structure Set Time
0032,4000 X Study Comments
0008,0020 Z Study Date
0008,1030 X Study Description
0020,0010 Z Study ID
0032,0012 X Study ID Issuer
0020,000D U Study Instance UID
0008,0030 Z Study Time
0020,0200 U Synchronization Frame of Reference UID
0018,2042 U Target UID
0040,A354 X Telephone Number (Trial)
0040,DB0D U Template Extension Creator UID
0040,DB0C U Template Extension Organization UID
4000,4000 X Text Comments
2030,0020 X Text String
0008,0201 X Timezone Offset From UTC
0088,0910 X Topic Author
0088,0912 X Topic Keywords
0088,0906 X Topic Subject
0088,0904 X Topic Title
0062,0021 U Tracking UID
0008,1195 U Transaction UID
0018,5011 X Transducer Identification Sequence
3008,0250 X/D Treatment Date
300A,00B2 X Treatment Machine Name
300A,0608 D Treatment Position Group Label
300A,0609 U Treatment Position Group UID
300A,0700 U Treatment Session UID
3010,0077 D Treatment Site
3010,007A Z Treatment Technique Notes
3008,0251 X/D Treatment Time
300A,0736 D Treatment Tolerance Violation DateTime
300A,0734 D Treatment Tolerance Violation Description
0018,100A X UDI Sequence
0040,A124 U UID
0018,1009 X Unique Device Identifier
3010,0033 D User Content Label
3010,0034 D User Content Long Label
0040,A352 X Verbal Source (Trial)
0040,A358 X Verbal Source Identifier Code Sequence (Trial)
0040,A088 Z Verifying Observer Identification Code Sequence
0040,A075 D Verifying Observer Name
0040,A073 D Verifying Observer Sequence
0040,A027 D Verifying Organization
0038,4000 X Visit Comments
0018,9371 D X-Ray Detector ID
0018,9373 X X-Ray Detector Label
0018,9367 D X-Ray Source ID
"""

# The option columns of Table E.1-1, from the same extraction
# (`confidentiality_profile_attributes.json`: rtnSafePrivOpt, rtnUIDsOpt, rtnDevIdOpt,
# rtnInstIdOpt, rtnPatCharsOpt, rtnLongFullDatesOpt, rtnLongModifDatesOpt,
# cleanDescOpt, cleanStructContOpt, cleanGraphOpt). Columns, as abbreviated here:
#   U  Retain UIDs (113110)                  DV Retain Device Identity (113109)
#   IN Retain Institution Identity (113112)  PC Retain Patient Characteristics (113108)
#   FD Retain Longitudinal Temporal Information Full Dates (113106)
#   MD Retain Longitudinal Temporal Information Modified Dates (113107)
#   CD Clean Descriptors (113105)            CS Clean Structured Content (113104)
#   CG Clean Graphics (113103)
# K keeps the attribute, C cleans it (for MD: modifies the dates), X removes it.
# Pattern rows (private attributes: Retain Safe Private C; curves and overlays: Clean
# Graphics C) are handled in code.
OPTIONS = """
0018,4000 CD=C
0040,0555 CS=C
0008,0022 FD=K MD=C
0008,002A FD=K MD=C
0018,1400 CD=C
0018,11BB CD=C
0018,9424 CD=C
0008,0032 FD=K MD=C
0010,21B0 CD=C
0038,0020 FD=K MD=C
0008,1084 CD=C
0008,1080 CD=C
0038,0021 FD=K MD=C
0000,1000 U=K
0010,2110 PC=C CD=C
300A,00C3 CD=C
300A,00DD CD=C
0018,1007 DV=K
0012,0060 IN=K
0012,0081 IN=K
0012,0072 CD=C
0012,0030 IN=K
0012,0031 IN=K
0012,0051 CD=C
0040,0310 CD=C
0040,0280 CD=C
300A,02EB CD=C
0020,9161 U=K
3010,000F CD=C
3010,0017 CD=C
3010,0006 U=K
3010,0013 U=K
0040,051A CD=C
0008,0023 FD=K MD=C
0040,A730 CS=C
0008,0033 FD=K MD=C
0018,0010 CD=C
0018,A003 CD=C
0008,0025 FD=K MD=C
0008,0035 FD=K MD=C
0018,937F CD=C
0008,2111 CD=C
0018,700A DV=K
0050,0020 DV=K
3010,002D DV=K
0018,1000 DV=K
0016,004B CD=C
0018,1002 U=K DV=K
0020,9164 U=K
0038,0040 CD=C
300A,0016 CD=C
300A,0013 U=K
3010,006E U=K
0018,9517 FD=K MD=C
3010,0037 CD=C
3010,0035 CD=C
3010,0038 CD=C
3010,0036 CD=C
300A,0676 CD=C
0010,2160 PC=K
0040,4011 FD=K MD=C
0008,0058 U=K
0070,031A U=K
3008,0054 FD=K MD=C
300A,0196 CD=C
3010,007F CD=C
300A,0072 CD=C
0020,9158 CD=C
0020,0052 U=K
0034,0007 FD=K MD=C
0018,1008 DV=K
0018,1005 DV=K
0016,008D FD=K MD=C
0070,0001 CG=C
0008,4000 CD=C
0020,4000 CD=C
0040,2400 CD=C
003A,0314 FD=K MD=C
4008,0300 CD=C
0008,0015 FD=K MD=C
0008,0014 U=K
0008,0081 IN=K
0008,1040 IN=K
0008,1041 IN=K
0008,0082 IN=K
0008,0080 IN=K
3010,004D FD=K MD=C
3010,004C FD=K MD=C
300A,0741 FD=K MD=C
300A,0742 CD=C
300A,0783 CD=C
4008,0115 CD=C
4008,010B CD=C
0008,3010 U=K
2200,0002 CD=C
0028,1214 U=K
0010,21D0 FD=K MD=C
0016,004F DV=K
0016,0050 DV=K
0016,0051 DV=K
0016,004E DV=K
0050,0021 CD=C
0016,002B CD=C
0018,100B U=K DV=K
3010,0043 DV=K
0002,0003 U=K
0010,2000 CD=C
3008,0056 FD=K MD=C
0018,937B CD=C
003A,0310 U=K
0040,A192 FD=K MD=C
0040,A402 U=K
0040,A193 FD=K MD=C
0040,A171 U=K
0010,2180 CD=C
0008,0024 FD=K MD=C
0008,0034 FD=K MD=C
300A,0760 FD=K MD=C
0028,1199 U=K
0010,1010 PC=K
0010,0040 PC=K
0010,2203 PC=K
0010,1020 PC=K
0010,1030 PC=K
0010,4000 CD=C
300A,0650 U=K
0038,0500 PC=C CD=C
0040,0254 CD=C
0040,0250 FD=K MD=C
0040,4051 FD=K MD=C
0040,0251 FD=K MD=C
0040,0244 FD=K MD=C
0040,4050 FD=K MD=C
0040,0245 FD=K MD=C
0040,0241 DV=K
0040,4030 DV=K
0040,0242 DV=K
0040,4028 DV=K
0018,1004 DV=K
0010,21C0 PC=K
0040,0012 PC=C
300A,000E CD=C
3010,007B CD=C
3010,0081 CD=C
0070,1101 U=K
0070,1102 U=K
3010,0061 CD=C
0040,4052 FD=K MD=C
0018,1030 CD=C
300A,0619 CD=C
300A,0623 CD=C
300A,067D CD=C
300A,067C CD=C
300C,0113 CD=C
0040,100A CD=C
0032,1030 CD=C
3010,005C CD=C
0040,2001 CD=C
0040,1002 CD=C
0032,1066 CD=C
0032,1067 CD=C
300A,073A FD=K MD=C
3010,000B U=K
300A,0083 U=K
3010,006F U=K
3010,0031 U=K
3006,0024 U=K
0040,4023 U=K
0008,1140 U=K
0040,A172 U=K
0008,1120 U=X
0008,1111 U=K
0008,1155 U=K
0004,1511 U=K
0008,1110 U=K
3006,00C2 U=K
0040,0275 CD=C
0032,1070 CD=C
0040,1400 CD=C
0032,1060 CD=C
0018,9937 CD=C
0000,1001 U=K
0018,9185 CD=C
4008,4000 CD=C
3006,0028 CD=C
3006,0038 CD=C
3006,0026 CD=C
3006,0088 CD=C
3006,0085 CD=C
3010,005A CD=C
300A,0006 FD=K MD=C
300A,0004 CD=C
300A,0002 CD=C
300A,0003 CD=C
300A,0007 FD=K MD=C
3010,0054 CD=C
300A,062A CD=C
3010,0056 CD=C
3010,003B U=K
0040,0007 CD=C
0040,0004 FD=K MD=C
0040,0005 FD=K MD=C
0040,4008 FD=K MD=C
0040,0011 DV=K
0040,4010 FD=K MD=C
0040,0002 FD=K MD=C
0040,4005 FD=K MD=C
0040,0003 FD=K MD=C
0040,0001 DV=K
0040,4027 DV=K
0040,0010 DV=K
0040,4025 DV=K
0032,1020 DV=K
0032,1021 DV=K
0008,0021 FD=K MD=C
0008,103E CD=C
0020,000E U=K
0008,0031 FD=K MD=C
0038,0062 CD=C
300A,01B2 CD=C
300A,01A6 CD=C
0010,21A0 PC=K
0008,0018 U=K
3010,0015 U=K
0018,936A FD=K MD=C
0008,2112 U=K
300A,0216 DV=K
3008,0105 DV=K
0018,9369 FD=K MD=C
0038,0050 PC=C
0040,0602 CD=C
0040,0610 CS=C
0040,0600 CD=C
0040,0554 U=K
0018,9516 FD=K MD=C
0008,1010 DV=K
0088,0140 U=K
3006,0008 FD=K MD=C
3006,0006 CD=C
3006,0002 CD=C
3006,0004 CD=C
3006,0009 FD=K MD=C
0032,4000 CD=C
0008,0020 FD=K MD=C
0008,1030 CD=C
0020,000D U=K
0008,0030 FD=K MD=C
0020,0200 U=K
0018,2042 U=K
0040,DB0D U=K
0040,DB0C U=K
0008,0201 FD=K MD=C
0062,0021 U=K
0008,1195 U=K
0018,5011 DV=K
3008,0250 FD=K MD=C
300A,00B2 DV=K
300A,0608 CD=C
300A,0609 U=K
300A,0700 U=K
3010,0077 CD=C
3010,007A CD=C
3008,0251 FD=K MD=C
300A,0736 FD=K MD=C
300A,0734 CD=C
0018,100A DV=K
0018,1009 DV=K
3010,0033 CD=C
3010,0034 CD=C
0038,4000 CD=C
0018,9371 DV=K
0018,9373 DV=K
0018,9367 DV=K
"""

# The flag of each option cell in the generated table (`profile::opt`).
OPTION_FLAGS = {
    "U=K": "RETAIN_UIDS",
    "DV=K": "RETAIN_DEVICE",
    "IN=K": "RETAIN_INSTITUTION",
    "PC=K": "RETAIN_PATIENT",
    "PC=C": "CLEAN_PATIENT",
    "FD=K": "RETAIN_FULL_DATES",
    "MD=C": "MODIFY_DATES",
    "CD=C": "CLEAN_DESCRIPTOR",
    "CS=C": "CLEAN_STRUCTURED",
    "CG=C": "CLEAN_GRAPHICS",
    # Referenced Patient Sequence: removed even when UIDs are retained, as the Basic
    # Profile removes it; no flag.
    "U=X": None,
}

# Compound codes (PS3.15 E.1.1): the action depends on the attribute's type in the
# IOD, which a header reader does not know. The most structure-preserving choice is
# taken: D before Z before X, so the result stays valid for any type.
# `U*` (a sequence of references): the sequence is kept; its UIDs are replaced by
# their own rows.
COMPOUND = {
    "X/Z": "Z",
    "X/D": "D",
    "Z/D": "D",
    "X/Z/D": "D",
    "X/Z/U*": "K",
}
NAMES = {"D": "Dummy", "Z": "Empty", "X": "Remove", "U": "ReplaceUid", "K": "Keep"}


def main() -> None:
    rows = []
    for line in ROWS.strip().splitlines():
        tag, code, name = line.split(" ", 2)
        group, element = tag.split(",")
        action = COMPOUND.get(code, code)
        rows.append((int(group, 16), int(element, 16), action, code, name))
    rows.sort()
    keys = [(g, e) for g, e, *_ in rows]
    assert len(keys) == len(set(keys)), "duplicate tag"
    out = [
        "// @generated by tools/gen_deid_profile.py from DICOM PS3.15 Table E.1-1 (rows\n",
        "// transcribed from innolitics/dicom-standard, MIT licence). Do not edit.\n\n",
        "use super::Action;\n",
        "use crate::Tag;\n\n",
        "/// The Basic Profile action of every attribute PS3.15 Table E.1-1 names by tag,\n",
        f"/// sorted by tag ({len(rows)} rows). Compound codes are resolved as the generator\n",
        "/// documents.\n",
        f"pub(super) static BASIC_PROFILE: [(Tag, Action); {len(rows)}] = [\n",
    ]
    for group, element, action, code, name in rows:
        out.append(
            f"    (Tag::new(0x{group:04X}, 0x{element:04X}), Action::{NAMES[action]}), // {code} {name}\n"
        )
    out.append("];\n")

    names = {(g, e): name for g, e, _, _, name in rows}
    options = []
    for line in OPTIONS.strip().splitlines():
        tag, *cells = line.split()
        group, element = (int(part, 16) for part in tag.split(","))
        if (group, element) not in names:
            print(f"option row {tag} has no Basic Profile row: skipped")
            continue
        flags = [OPTION_FLAGS[cell] for cell in cells if OPTION_FLAGS[cell]]
        if flags:
            options.append((group, element, flags, " ".join(cells)))
    options.sort()
    keys = [(g, e) for g, e, *_ in options]
    assert len(keys) == len(set(keys)), "duplicate option tag"
    out += [
        "\n/// The option columns of Table E.1-1 for the attributes above that have any, as\n",
        f"/// [`opt`] flags, sorted by tag ({len(options)} rows).\n",
        f"pub(super) static OPTIONS: [(Tag, u16); {len(options)}] = [\n",
    ]
    for group, element, flags, cells in options:
        value = " | ".join(f"opt::{flag}" for flag in flags)
        out.append(
            f"    (Tag::new(0x{group:04X}, 0x{element:04X}), {value}), // {cells} {names[(group, element)]}\n"
        )
    out.append("];\n")
    out += [
        "\n/// Flags of [`OPTIONS`]: what each option column says of an attribute.\n",
        "pub(super) mod opt {\n",
    ]
    for bit, (flag, doc) in enumerate([
        ("RETAIN_UIDS", "Retain UIDs: K."),
        ("RETAIN_DEVICE", "Retain Device Identity: K."),
        ("RETAIN_INSTITUTION", "Retain Institution Identity: K."),
        ("RETAIN_PATIENT", "Retain Patient Characteristics: K."),
        ("CLEAN_PATIENT", "Retain Patient Characteristics: C."),
        ("RETAIN_FULL_DATES", "Retain Longitudinal Temporal Information Full Dates: K."),
        ("MODIFY_DATES", "Retain Longitudinal Temporal Information Modified Dates: C."),
        ("CLEAN_DESCRIPTOR", "Clean Descriptors: C."),
        ("CLEAN_STRUCTURED", "Clean Structured Content: C."),
        ("CLEAN_GRAPHICS", "Clean Graphics: C."),
    ]):
        out.append(f"    /// {doc}\n    pub(in super::super) const {flag}: u16 = 1 << {bit};\n")
    out.append("}\n")
    (CRATE / "src/deidentify/profile.rs").write_text("".join(out))


if __name__ == "__main__":
    main()
