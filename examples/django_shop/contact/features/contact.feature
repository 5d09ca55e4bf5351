@browser
Feature: Writing to the shop
  Shoppers write from the contact page in a browser (a headless Chromium per worker, on
  that worker's own server); a valid message reaches the shop by e-mail.

  Scenario: A message reaches the shop by e-mail
    When I open the contact page in the browser
    And I fill in the contact form with:
      | field   | value                          |
      | name    | Ann                            |
      | email   | ann@example.com                |
      | message | Is the teapot dishwasher safe? |
    And I send the contact form
    Then the browser shows "Thank you, Ann: we will answer ann@example.com"
    And I have sent 1 email
    And I have sent an email with "Message from Ann" in the subject

  Scenario: The form asks for an address to answer to
    When I open the contact page in the browser
    And I fill in the contact form with:
      | field   | value          |
      | name    | Bob            |
      | email   | not-an-address |
      | message | Hello          |
    And I send the contact form
    Then the browser shows "Enter a valid email address."
    And I have not sent any emails
